/**
 * References to objects, wherever they live: a {@link LocalRef} in the host
 * calls the object directly; a {@link RemoteRef} elsewhere sends the call
 * over one authenticated connection per host (`client.ts`), multiplexing
 * every object and call. A caller's abort, or its connection dropping,
 * aborts the call's signal on the host.
 *
 * @module
 */

import { keepAlive, onAbort, once } from "../base/async.ts";
import type { Client } from "./client.ts";
import { ProcessError } from "../base/errors.ts";
import { hubAddress } from "./hub_state.ts";
import { type Address, addressToString } from "../transport/address.ts";
import type { CallOptions, Hosted, ObjectRef, Peer, PushListener, PushPlacer } from "./protocol.ts";
import { registry } from "./registry.ts";
import { markAt } from "./marks.ts";
import type { Path } from "./paths.ts";
import { valueNow } from "./handles.ts";

/**
 * The hub, with what answers its "attach" connections (`server.ts`), and
 * the client: loaded when an object is first shared or reached, so that a
 * program (or a child) that shares none loads no socket.
 */
let clients: typeof import("./client.ts") | undefined;
const loadHub = once(() => import("./server.ts").then(() => import("./hub.ts")));
const loadClients = once(() => import("./client.ts").then((m) => (clients = m)));

const LOCAL_PEER: Peer = { id: 0, session: "", push() {}, pushBytes: () => Promise.resolve() };

/** A reference to an object hosted here. */
export class LocalRef implements ObjectRef {
  readonly id: string;
  readonly local = true;
  #obj: Hosted;
  #listeners: PushListener[] = [];

  /** Hosts `obj` in this process (the hub opens only once it is shared). */
  constructor(obj: Hosted) {
    // Short ids keep every call message small; unique within this host.
    this.id = (registry().nextObject++).toString(36);
    this.#obj = obj;
    registry().objects.set(this.id, { obj, ref: this });
  }

  async address(options: { toWorker?: boolean } = {}): Promise<Address> {
    const entry = registry().objects.get(this.id);
    if (!entry) {
      throw new ProcessError("Cannot share an object that was released");
    }
    const { acquireHub, portName } = await loadHub();
    // A hub that may not listen serves its worker children over ports.
    const name = options.toWorker ? portName() : undefined;
    if (name) return name;
    // One hold on the hub per object, however many describe it at once.
    entry.hub ??= acquireHub();
    return (await entry.hub).address;
  }

  call(
    method: string,
    args: unknown[],
    opts: CallOptions = {},
  ): Promise<unknown> {
    const { signal, onOrphan, handles } = opts;
    if (signal?.aborted) return Promise.reject(signal.reason);
    let result: Promise<unknown>;
    try {
      if (handles) markAt(args, handles);
      const v = this.#obj.call(method, args, LOCAL_PEER, signal ?? NEVER);
      // An answer that waits (a get on an empty queue) keeps this process
      // alive, as a remote call's open connection does.
      result = v instanceof Promise ? v.finally(keepAlive()) : Promise.resolve(v);
    } catch (err) {
      return Promise.reject(err);
    }
    if (!signal) return result;
    // Settle at the abort, as a remote call does; a value the object
    // produces after it is an orphan.
    return new Promise((resolve, reject) => {
      let aborted = false;
      const off = onAbort(signal, (reason) => {
        aborted = true;
        reject(reason);
      });
      result.then(
        (v) => {
          off();
          if (aborted) onOrphan?.(v);
          else resolve(v);
        },
        (e) => {
          off();
          if (!aborted) reject(e);
        },
      );
    });
  }

  send(method: string, args: unknown[]): void {
    this.call(method, args).catch(() => {});
  }

  post(method: string, args: unknown[], handles?: Path[]): Promise<void> {
    this.call(method, args, { handles }).catch(() => {});
    return Promise.resolve();
  }

  defer(method: string, item: unknown): void {
    this.send(method, [[item]]);
  }

  deferRun(method: string, n: number): void {
    this.send(method, [[[n, 1]]]);
  }

  room(): boolean {
    return true;
  }

  whenRoom(): Promise<void> {
    return Promise.resolve();
  }

  noWaitAtExit(): void {}

  postBytes(method: string, args: unknown[], bytes: Uint8Array): Promise<void> {
    return this.post(method, [...args, bytes]);
  }

  onPush(listener: PushListener): void {
    // Pushes here are values handed over in this process: nothing to place.
    this.#listeners.push(listener);
  }

  /** Delivers a push to this process's own listeners. */
  pushLocal(event: string, args: unknown[]): void {
    for (const l of this.#listeners) l(event, args);
  }

  lost(): undefined {
    return undefined;
  }

  /** Stops serving the object and lets the hub close if nothing else needs it. */
  release(): void {
    const entry = registry().objects.get(this.id);
    registry().objects.delete(this.id);
    entry?.hub?.then((hub) => hub.release());
  }
}

const NEVER = new AbortController().signal;

/** A reference to an object hosted by another process. */
export class RemoteRef implements ObjectRef {
  readonly id: string;
  readonly local = false;
  #address: Address;
  #client: Client | undefined;
  #waiting: ((c: Client | Error) => void)[] | undefined;
  #listeners: [PushListener, PushPlacer | undefined][] = [];
  /** The connection the listeners are on, and how many of them. */
  #listeningOn: Client | undefined;
  #listened = 0;

  /** References object `id` at `address`. */
  constructor(address: Address, id: string) {
    this.#address = address;
    this.id = id;
  }

  address(): Promise<Address> {
    return Promise.resolve(this.#address);
  }

  /**
   * Runs `fn` with the connection to the host, at once when it is open,
   * else once it is: in the order of the calls either way, so a send is
   * never overtaken by a close made after it.
   */
  #with<T>(fn: (c: Client) => T | Promise<T>): Promise<T> {
    // A lost connection is replaced on the next call (by one of the same
    // session, so the host still knows what this process holds).
    if (this.#client?.lost) this.#client = undefined;
    const client = this.#client ?? clients?.Client.existing(this.#address);
    if (client && !this.#waiting) {
      this.#client = client;
      if (this.#listeners.length > 0) this.#follow(client);
      try {
        return Promise.resolve(fn(client));
      } catch (err) {
        return Promise.reject(err);
      }
    }
    return new Promise<T>((resolve, reject) => {
      if (!this.#waiting) {
        this.#waiting = [];
        loadClients().then(({ Client }) => Client.for(this.#address))
          .then((c) => this.#drain(c), (e) => this.#drain(e));
      }
      this.#waiting.push((c) => {
        if (c instanceof Error) return reject(c);
        try {
          resolve(fn(c));
        } catch (err) {
          reject(err);
        }
      });
    });
  }

  #drain(c: Client | Error): void {
    const waiting = this.#waiting ?? [];
    this.#waiting = undefined;
    if (!(c instanceof Error)) {
      this.#client = c;
      if (this.#listeners.length > 0) this.#follow(c);
    }
    for (const w of waiting) w(c);
  }

  /**
   * Puts this reference's push listeners on connection `c`: all of them
   * when it is a new one (a lost connection was replaced), else those added
   * since.
   */
  #follow(c: Client): void {
    if (c !== this.#listeningOn) {
      this.#listeningOn = c;
      this.#listened = 0;
    }
    while (this.#listened < this.#listeners.length) {
      c.listen(this.id, ...this.#listeners[this.#listened++]);
    }
  }

  call(method: string, args: unknown[], opts?: CallOptions): Promise<unknown> {
    let a: unknown[];
    try {
      // Taken at the call: the message is encoded later (at the end of the
      // turn, or once connected), and the caller may change what it passed.
      a = valueNow(args);
    } catch (err) {
      return Promise.reject(err);
    }
    return this.#with((c) => c.call(this.id, method, a, opts));
  }

  send(method: string, args: unknown[]): void {
    this.post(method, args).catch(() => {});
  }

  post(method: string, args: unknown[], handles?: Path[], taken = false): Promise<void> {
    let a: unknown[];
    try {
      a = taken ? args : valueNow(args); // as in call()
    } catch (err) {
      return Promise.reject(err);
    }
    return this.#with((c) => c.post(this.id, method, a, handles));
  }

  defer(method: string, item: unknown, size?: number): void {
    // Connected: no promise for each item (this is on the path of every put and ack).
    const c = this.#client;
    if (c && !c.lost && !this.#waiting) {
      try {
        c.defer(this.id, method, item, size);
      } catch { /* lost meanwhile: as with a send */ }
      return;
    }
    this.#with((c) => c.defer(this.id, method, item, size)).catch(() => {});
  }

  deferRun(method: string, n: number): void {
    const c = this.#client;
    if (c && !c.lost && !this.#waiting) {
      try {
        c.deferRun(this.id, method, n);
      } catch { /* lost meanwhile: as with a send */ }
      return;
    }
    this.#with((c) => c.deferRun(this.id, method, n)).catch(() => {});
  }

  room(): boolean {
    // Not connected yet: what is sent meanwhile would wait unbounded.
    const client = this.#client ?? clients?.Client.existing(this.#address);
    return !!client && !this.#waiting && client.room();
  }

  whenRoom(): Promise<void> {
    return this.#with((c) => c.whenRoom());
  }

  noWaitAtExit(): void {
    this.#with((c) => (c.waitAtExit = false)).catch(() => {});
  }

  postBytes(method: string, args: unknown[], bytes: Uint8Array): Promise<void> {
    return this.#with((c) => c.postBytes(this.id, method, args, bytes));
  }

  onPush(listener: PushListener, place?: PushPlacer): void {
    // Kept here: a connection that replaces a lost one gets them too.
    this.#listeners.push([listener, place]);
    this.#with((c) => this.#follow(c)).catch(() => {});
  }

  /**
   * Why the connection to the host is gone, until a call opens another.
   */
  lost(): Error | undefined {
    return this.#client?.lost;
  }
}

/**
 * A reference to object `id` at `address`: the object itself when this
 * process hosts it, else a remote reference.
 */
export function refFor(address: Address, id: string): ObjectRef {
  // Ids are unique per host only: a manager's object "1" is not this one's.
  const own = hubAddress();
  const local = own && addressToString(own) === addressToString(address)
    ? registry().objects.get(id)?.ref
    : undefined;
  return local ?? new RemoteRef(address, id);
}
