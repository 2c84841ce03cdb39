/**
 * The manager's registry: the hosted object that creates the others, counts
 * the references to each (per client session, in transit, and held inside
 * other managed objects) and frees an object when the last one goes. See
 * `refcount.ts` for the scheme. A session's references go when it ends:
 * ended by its client, or not resumed within the grace period after its
 * last connection was lost.
 *
 * @module
 */

import { type Descriptor, WithHandles } from "../hub/handles.ts";
import { marksIn, withHandles } from "../hub/marks.ts";
import { TO_DESCRIPTOR } from "../base/symbols.ts";
import type { Travelling } from "../hub/handles.ts";
import { markManaged, unmark } from "./refcount.ts";
import type { ManagedMeta } from "./refcount.ts";
import type { Holdings } from "./holdings.ts";
import type { Hosted, Peer } from "../hub/protocol.ts";
import { LocalRef } from "../hub/refs.ts";
import { type Address, addressToString } from "../transport/address.ts";
import { argArray } from "../hub/args.ts";
import { ProcessError } from "../base/errors.ts";
import { Quota } from "./quota.ts";

/** An object id or type name: a string, as a client sends it. */
function argId(args: unknown[], method: string): string {
  const v = args[0];
  if (typeof v !== "string") {
    throw new TypeError(`Cannot call '${method}' on a manager: argument 1 must be a string`);
  }
  return v;
}

/** What a factory made: a hosted core with its proxy kind, or a handle. */
export type Made =
  | { core: Hosted & { dispose?(): void }; kind: string; extra?: Record<string, unknown> }
  | { handle: Travelling; dispose?: () => void };

/** Makes an object of a type from the caller's arguments (handles in them still marked: `marks.ts`). */
export type Factory = (args: unknown[], registry: RegistryCore) => Made | Promise<Made>;

interface Entry {
  dispose(): void;
  handle?: Travelling;
  /** References by client session. */
  holders: Map<string, number>;
  transit: number;
  stored: number;
  typeid: string;
  /** The client session that made it (counted against its quota), if a client did. */
  creator?: string;
}

/** The registry object a manager serves first. */
export class RegistryCore implements Hosted, Holdings {
  #entries = new Map<string, Entry>();
  #factories: Map<string, Factory>;
  #onShutdown: () => void;
  /** The session that may shut the manager down (its starter's); undefined: any. */
  #owner: string | undefined;
  #quota = new Quota();
  #address!: Address;
  #addressKey = "";
  #meta!: ManagedMeta;

  /**
   * A registry creating objects with `factories`; only session `owner` (when
   * given) may shut it down.
   */
  constructor(factories: Map<string, Factory>, onShutdown: () => void, owner?: string) {
    this.#factories = factories;
    this.#onShutdown = onShutdown;
    this.#owner = owner;
  }

  /** Sets where the registry is served, and its id. */
  serveAt(address: Address, id: string): void {
    this.#address = address;
    this.#addressKey = addressToString(address);
    this.#meta = { registry: id };
  }

  /**
   * The role a sandboxed peer needs: "refs" to count its own references,
   * which its grants allow; anything else (create, shutdown…) no sandbox has.
   */
  roleOf(method: string): string {
    return method === "adopt" || method === "decref" || method === "incref" ? "refs" : "admin";
  }

  call(method: string, args: unknown[], peer: Peer): unknown {
    // A sandboxed peer counts references only to the objects it was given.
    if (peer.granted && !peer.granted(argId(args, method))) {
      throw new TypeError(`Cannot call '${method}' on a manager: this process was not given it`);
    }
    switch (method) {
      case "create":
        // The descriptor goes back as a handle (its path beside it), never as a value.
        return this.create(
          argId(args, method),
          args[1] === undefined ? [] : argArray(args, 1, method),
          peer.id === 0 ? undefined : peer.session,
        ).then((d) => new WithHandles(d, [[]]));
      case "incref":
        return this.#add(argId(args, method), "transit", 1);
      case "adopt": {
        const id = argId(args, method);
        const e = this.#entries.get(id);
        if (!e) return;
        e.holders.set(peer.session, (e.holders.get(peer.session) ?? 0) + 1);
        // A reference in transit becomes this session's; an adopt with none
        // (one that overtook its incref, or a client's own count) takes
        // nothing from the others: transit never goes below 0, so no
        // session can lower what another holds.
        if (e.transit > 0) this.#add(id, "transit", -1);
        return;
      }
      case "decref": {
        const id = argId(args, method);
        const e = this.#entries.get(id);
        const n = e?.holders.get(peer.session);
        if (!e || !n) return;
        if (n > 1) e.holders.set(peer.session, n - 1);
        else e.holders.delete(peer.session);
        return this.#check(id, e);
      }
      case "count":
        return this.#entries.size;
      case "types":
        return [...this.#factories.keys()];
      case "shutdown":
        // The right of the process that started the manager (or of every key
        // holder, for one serving in a process of its own: serveForever).
        if (this.#owner !== undefined && peer.id !== 0 && peer.session !== this.#owner) {
          throw new ProcessError(
            "Cannot shut down the manager: only the process that started it may",
          );
        }
        return this.shutdown();
    }
    throw new TypeError(`Cannot call '${method}' on a manager: no such method`);
  }

  /**
   * Makes an object; resolves its descriptor, with one reference in
   * transit. A client session (`creator`) may hold at most
   * `limits().objectsPerClient` objects it made.
   */
  async create(typeid: string, args: unknown[], creator?: string): Promise<Descriptor> {
    const factory = this.#factories.get(typeid);
    if (!factory) {
      throw new TypeError(
        `Cannot create '${typeid}': the manager has no such type (it has: ${
          [...this.#factories.keys()].join(", ")
        })`,
      );
    }
    if (creator !== undefined) this.#quota.take(creator, typeid);
    try {
      return await this.#make(typeid, factory, args, creator);
    } catch (err) {
      if (creator !== undefined) this.#quota.give(creator);
      throw err;
    }
  }

  async #make(
    typeid: string,
    factory: Factory,
    args: unknown[],
    creator: string | undefined,
  ): Promise<Descriptor> {
    // Arguments stay marked: a dict's entries are stored as they came.
    const made = await factory(args, this);
    let d: Descriptor;
    let dispose: () => void;
    if ("core" in made) {
      const ref = new LocalRef(made.core);
      d = { kind: made.kind, address: this.#address, id: ref.id };
      if (made.extra) d.extra = made.extra;
      dispose = () => {
        ref.release();
        made.core.dispose?.();
      };
    } else {
      d = await made.handle[TO_DESCRIPTOR]();
      dispose = made.dispose ?? (() => {});
    }
    const e = this.#entries.get(d.id);
    if (e) {
      e.transit++; // A factory that hands out one shared object: nothing new made.
      if (creator !== undefined) this.#quota.give(creator);
    } else {
      const handle = "handle" in made ? made.handle : undefined;
      this.#entries.set(d.id, {
        dispose,
        handle,
        holders: new Map(),
        transit: 1,
        stored: 0,
        typeid,
        creator,
      });
      markManaged(d.address, d.id, this.#meta);
    }
    d.managed = { registry: this.#meta.registry };
    return d;
  }

  #add(id: string, field: "transit" | "stored", n: number): void {
    const e = this.#entries.get(id);
    if (!e) return;
    e[field] += n;
    if (n < 0) this.#check(id, e);
  }

  #check(id: string, e: Entry): void {
    let total = e.transit + e.stored;
    for (const n of e.holders.values()) total += n;
    if (total > 0) return;
    this.#entries.delete(id);
    unmark(this.#address, id);
    if (e.creator !== undefined) this.#quota.give(e.creator);
    e.dispose();
  }

  #own(value: unknown): Descriptor[] {
    if (typeof value !== "object" || value === null) return [];
    return marksIn(value).filter((d) => addressToString(d.address) === this.#addressKey);
  }

  stored(value: unknown): void {
    for (const d of this.#own(value)) {
      this.#add(d.id, "stored", 1);
      this.#add(d.id, "transit", -1);
    }
  }

  removed(value: unknown): void {
    for (const d of this.#own(value)) this.#add(d.id, "stored", -1);
  }

  readOut(value: unknown): unknown {
    for (const d of this.#own(value)) this.#add(d.id, "transit", 1);
    return withHandles(value);
  }

  /** A client session is over: its references go. */
  endSession(session: string): void {
    for (const [id, e] of [...this.#entries]) {
      if (e.holders.delete(session)) this.#check(id, e);
    }
  }

  /** The handle a factory made for object `id` (a lock a condition is built on). */
  handleOf(id: string): Travelling | undefined {
    return this.#entries.get(id)?.handle;
  }

  /** Descriptors of this manager's objects inside `value` (marked). */
  ownDescriptors(value: unknown): Descriptor[] {
    return this.#own(value);
  }

  /** The number of live objects. */
  get size(): number {
    return this.#entries.size;
  }

  /** Frees every object and stops the manager. */
  shutdown(): void {
    const entries = [...this.#entries.entries()];
    this.#entries.clear();
    for (const [id, e] of entries) {
      unmark(this.#address, id);
      try {
        e.dispose();
      } catch { /* freeing the rest matters more */ }
    }
    this.#onShutdown();
  }
}
