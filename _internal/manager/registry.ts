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

import { type Descriptor, descriptorsIn } from "../hub/handles.ts";
import { TO_DESCRIPTOR } from "../base/symbols.ts";
import type { Travelling } from "../hub/handles.ts";
import { HOOK_URL, markManaged, unmark } from "./refcount.ts";
import type { ManagedMeta } from "./refcount.ts";
import type { Holdings } from "./holdings.ts";
import type { Hosted, Peer } from "../hub/protocol.ts";
import { LocalRef } from "../hub/refs.ts";
import { type Address, addressToString } from "../transport/address.ts";
import { argArray } from "../hub/args.ts";

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

/** Makes an object of a type from the caller's arguments (handles in them still packed). */
export type Factory = (args: unknown[], registry: RegistryCore) => Made | Promise<Made>;

interface Entry {
  dispose(): void;
  handle?: Travelling;
  /** References by client session. */
  holders: Map<string, number>;
  transit: number;
  stored: number;
  typeid: string;
}

/** The registry object a manager serves first. */
export class RegistryCore implements Hosted, Holdings {
  #entries = new Map<string, Entry>();
  #factories: Map<string, Factory>;
  #proxies: string;
  #onShutdown: () => void;
  #address!: Address;
  #addressKey = "";
  #meta!: ManagedMeta;

  /**
   * A registry creating objects with `factories`; `proxies` is the URL of
   * the module defining the proxy classes.
   */
  constructor(factories: Map<string, Factory>, proxies: string, onShutdown: () => void) {
    this.#factories = factories;
    this.#proxies = proxies;
    this.#onShutdown = onShutdown;
  }

  /** Sets where the registry is served, its id and the manager's key. */
  serveAt(address: Address, id: string, authkey?: Uint8Array): void {
    this.#address = address;
    this.#addressKey = addressToString(address);
    this.#meta = authkey ? { registry: id, authkey } : { registry: id };
  }

  call(method: string, args: unknown[], peer: Peer): unknown {
    switch (method) {
      case "create":
        return this.create(
          argId(args, method),
          args[1] === undefined ? [] : argArray(args, 1, method),
        );
      case "incref":
        return this.#add(argId(args, method), "transit", 1);
      case "adopt": {
        const id = argId(args, method);
        const e = this.#entries.get(id);
        if (!e) return;
        e.holders.set(peer.session, (e.holders.get(peer.session) ?? 0) + 1);
        return this.#add(id, "transit", -1);
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
        return this.shutdown();
    }
    throw new TypeError(`Cannot call '${method}' on a manager: no such method`);
  }

  /** Makes an object; resolves its descriptor, with one reference in transit. */
  async create(typeid: string, args: unknown[]): Promise<Descriptor> {
    const factory = this.#factories.get(typeid);
    if (!factory) {
      throw new TypeError(
        `Cannot create '${typeid}': the manager has no such type (it has: ${
          [...this.#factories.keys()].join(", ")
        })`,
      );
    }
    // Arguments stay packed: a dict's entries are stored as they came.
    const made = await factory(args, this);
    let d: Descriptor;
    let dispose: () => void;
    if ("core" in made) {
      const ref = new LocalRef(made.core);
      d = { kind: made.kind, module: this.#proxies, address: this.#address, id: ref.id };
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
    if (e) e.transit++; // A factory that hands out one shared object.
    else {
      const handle = "handle" in made ? made.handle : undefined;
      this.#entries.set(d.id, {
        dispose,
        handle,
        holders: new Map(),
        transit: 1,
        stored: 0,
        typeid,
      });
      markManaged(d.address, d.id, this.#meta);
    }
    d.via = HOOK_URL;
    d.meta = this.#meta;
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
    e.dispose();
  }

  #own(value: unknown): Descriptor[] {
    if (typeof value !== "object" || value === null) return [];
    return descriptorsIn(value).filter((d) => addressToString(d.address) === this.#addressKey);
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

  readOut<T>(value: T): T {
    for (const d of this.#own(value)) this.#add(d.id, "transit", 1);
    return value;
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

  /** Descriptors of this manager's objects inside `value` (packed). */
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
