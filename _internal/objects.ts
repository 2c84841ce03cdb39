/**
 * The object server: one mechanism for every shared object (queues, pipes,
 * locks, manager objects). An object lives in the process that created it
 * (its host) and is reached from anywhere through a reference:
 *
 * - a {@link LocalRef} in the host calls the object directly;
 * - a {@link RemoteRef} elsewhere sends the call over an authenticated
 *   connection to the host's hub, one connection per host per process,
 *   multiplexing every object and call.
 *
 * Calls may wait (a blocking `get`); a caller's abort, or its connection
 * dropping, aborts the call's signal on the host, so nothing waits for a
 * peer that is gone, and {@link Hosted.detach} lets an object take back
 * what a vanished peer held.
 *
 * Wire messages, client to host: `{r, o, m, a}` (a call expecting a reply
 * `r`), `{o, m, a}` (fire and forget), `{c}` (cancel call `c`). Host to
 * client: `{r, v}` or `{r, e}`, and `{p: objectId, ev, a}` pushes.
 *
 * This module holds the shared types, the registry and the references; the
 * connection to a host is in `object_client.ts`, the host side in
 * `object_server.ts`.
 *
 * @module
 */

import { Client } from "./object_client.ts";
// For its effects: whatever hosts an object (a LocalRef) must answer the
// hub's "attach" connections, and a child must close its connections at exit.
import "./object_server.ts";
import { ProcessError } from "./errors.ts";
import { acquireHub, hubAddress } from "./hub.ts";
import { type Address, addressToString } from "./transport.ts";

/** Who is calling: the host itself, or one connection. */
export interface Peer {
  /** Unique per connection; 0 for calls made in the host. */
  readonly id: number;
  /**
   * Sends an event to this peer's references to `objectId` (no-op locally).
   * `transfer` moves those buffers instead of copying them where the peer
   * is a worker of this process; elsewhere they are copied.
   */
  push(objectId: string, event: string, args: unknown[], transfer?: Transferable[]): void;
  /**
   * Like {@link Peer.push}, with raw bytes as the event's last argument;
   * resolves once they are written (a sender can wait on a slow reader).
   */
  pushBytes(objectId: string, event: string, args: unknown[], bytes: Uint8Array): Promise<void>;
}

/** An object served to other processes. */
export interface Hosted {
  /** Runs a method for a peer; `signal` aborts when the caller cancels or leaves. */
  call(
    method: string,
    args: unknown[],
    peer: Peer,
    signal: AbortSignal,
  ): unknown;
  /** The peer's connection is gone: give back what it held. */
  detach?(peer: Peer): void;
}

/** Options of a call. */
export interface CallOptions {
  /** Aborts the call: it rejects with the signal's reason. */
  signal?: AbortSignal;
  /**
   * Receives a result that arrived after the abort (the object had already
   * produced it), so that the caller can give it back.
   */
  onOrphan?(value: unknown): void;
}

/** A way to call an object, wherever it lives. */
export interface ObjectRef {
  /** The object's id in its host. */
  readonly id: string;
  /** The host's address (the hub is opened on first need). */
  address(): Promise<Address>;
  /** Calls a method and resolves its result. */
  call(method: string, args: unknown[], opts?: CallOptions): Promise<unknown>;
  /** Calls a method without waiting for, or getting, a reply. */
  send(method: string, args: unknown[]): void;
  /**
   * Like {@link ObjectRef.send}, but resolves once the call is encoded and
   * queued, and rejects when its arguments cannot be cloned. Calls posted
   * from one process run in the order they were posted.
   */
  post(method: string, args: unknown[]): Promise<void>;
  /**
   * Calls `method([...items])` later with this and the items of the calls
   * deferred after it (see `Client.defer`); `item` must surely encode.
   */
  defer(method: string, item: unknown): void;
  /** At this process's exit, do not wait for calls to this host to be written. */
  noWaitAtExit(): void;
  /** Posts a call whose last argument is raw bytes, sent without the structured-clone serializer. */
  postBytes(method: string, args: unknown[], bytes: Uint8Array): Promise<void>;
  /** Receives pushes for this object (pipes). */
  onPush(listener: (event: string, args: unknown[]) => void): void;
  /** Whether this reference is in the host. */
  readonly local: boolean;
  /** Why the connection to the host is gone, once it is known to be. */
  lost(): Error | undefined;
}

/**
 * A message from a client to a host: a call (`r` set when it expects a
 * reply), a cancel (`c`), or a batch of them (`b`).
 */
export interface CallMessage {
  r?: number;
  o?: string;
  m?: string;
  a?: unknown[];
  c?: number;
  b?: CallMessage[];
}

/** This isolate's hosted objects and connections to hosts. */
export interface Registry {
  objects: Map<
    string,
    { obj: Hosted; ref: LocalRef; hub?: Promise<{ address: Address; release(): void }> }
  >;
  clients: Map<string, Client>;
  nextPeer: number;
  nextObject: number;
}

const KEY = Symbol.for("@mp/multiprocessing.objects");

/**
 * This isolate's object registry, made on first use. Like `state()`, it
 * hangs off `globalThis`, so two copies of the library loaded in one
 * isolate share it.
 */
export function registry(): Registry {
  // deno-lint-ignore no-explicit-any
  const g = globalThis as any;
  return g[KEY] ??= {
    objects: new Map(),
    clients: new Map(),
    nextPeer: 1,
    nextObject: 1,
  } satisfies Registry;
}

const LOCAL_PEER: Peer = { id: 0, push() {}, pushBytes: () => Promise.resolve() };

/** A reference to an object hosted here. */
export class LocalRef implements ObjectRef {
  readonly id: string;
  readonly local = true;
  #obj: Hosted;
  #listeners: ((event: string, args: unknown[]) => void)[] = [];

  /** Hosts `obj` in this process (the hub opens only once it is shared). */
  constructor(obj: Hosted) {
    // Short ids keep every call message small; unique within this host.
    this.id = (registry().nextObject++).toString(36);
    this.#obj = obj;
    registry().objects.set(this.id, { obj, ref: this });
  }

  async address(): Promise<Address> {
    const entry = registry().objects.get(this.id);
    if (!entry) {
      throw new ProcessError("Cannot share an object that was released");
    }
    // One hold on the hub per object, however many describe it at once.
    entry.hub ??= acquireHub();
    return (await entry.hub).address;
  }

  call(
    method: string,
    args: unknown[],
    opts: CallOptions = {},
  ): Promise<unknown> {
    const { signal, onOrphan } = opts;
    if (signal?.aborted) return Promise.reject(signal.reason);
    let result: Promise<unknown>;
    try {
      result = Promise.resolve(
        this.#obj.call(method, args, LOCAL_PEER, signal ?? NEVER),
      );
    } catch (err) {
      return Promise.reject(err);
    }
    if (!signal) return result;
    // Settle at the abort, as a remote call does; a value the object
    // produces after it is an orphan.
    return new Promise((resolve, reject) => {
      let aborted = false;
      const onAbort = () => {
        aborted = true;
        reject(signal.reason);
      };
      signal.addEventListener("abort", onAbort, { once: true });
      result.then(
        (v) => {
          signal.removeEventListener("abort", onAbort);
          if (aborted) onOrphan?.(v);
          else resolve(v);
        },
        (e) => {
          signal.removeEventListener("abort", onAbort);
          if (!aborted) reject(e);
        },
      );
    });
  }

  send(method: string, args: unknown[]): void {
    this.call(method, args).catch(() => {});
  }

  post(method: string, args: unknown[]): Promise<void> {
    this.send(method, args);
    return Promise.resolve();
  }

  defer(method: string, item: unknown): void {
    this.send(method, [[item]]);
  }

  noWaitAtExit(): void {}

  postBytes(method: string, args: unknown[], bytes: Uint8Array): Promise<void> {
    return this.post(method, [...args, bytes]);
  }

  onPush(listener: (event: string, args: unknown[]) => void): void {
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
    const client = this.#client ?? registry().clients.get(addressToString(this.#address));
    if (client && !this.#waiting) {
      this.#client = client;
      try {
        return Promise.resolve(fn(client));
      } catch (err) {
        return Promise.reject(err);
      }
    }
    return new Promise<T>((resolve, reject) => {
      if (!this.#waiting) {
        this.#waiting = [];
        Client.for(this.#address).then((c) => this.#drain(c), (e) => this.#drain(e));
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
    if (!(c instanceof Error)) this.#client = c;
    for (const w of waiting) w(c);
  }

  call(method: string, args: unknown[], opts?: CallOptions): Promise<unknown> {
    return this.#with((c) => c.call(this.id, method, args, opts));
  }

  send(method: string, args: unknown[]): void {
    this.post(method, args).catch(() => {});
  }

  post(method: string, args: unknown[]): Promise<void> {
    return this.#with((c) => c.post(this.id, method, args));
  }

  defer(method: string, item: unknown): void {
    this.#with((c) => c.defer(this.id, method, item)).catch(() => {});
  }

  noWaitAtExit(): void {
    this.#with((c) => (c.waitAtExit = false)).catch(() => {});
  }

  postBytes(method: string, args: unknown[], bytes: Uint8Array): Promise<void> {
    return this.#with((c) => c.postBytes(this.id, method, args, bytes));
  }

  onPush(listener: (event: string, args: unknown[]) => void): void {
    this.#with((c) => c.listen(this.id, listener)).catch(() => {});
  }

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
