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
 * @module
 */

import { type Channel, CLOSED, type MessagePortLike, SocketChannel } from "./channel.ts";
import { ProcessError } from "./errors.ts";
import { acquireHub, hubAddress, onHubMessage } from "./hub.ts";
import { state } from "./state.ts";

import { type Address, addressToString, connectAuthed } from "./transport.ts";
import { BytesMessage, type ErrorData, errorFromData, errorToData } from "./wire.ts";

// Deno provides Node's setImmediate as a global; its types are Node's.
declare function setImmediate(fn: () => void): unknown;

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
}

interface Registry {
  objects: Map<string, { obj: Hosted; ref: LocalRef; hub?: { address: Address; release(): void } }>;
  clients: Map<string, Client>;
  nextPeer: number;
  nextObject: number;
}

const KEY = Symbol.for("@mp/multiprocessing.objects");

function registry(): Registry {
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
    if (!entry.hub) entry.hub = await acquireHub();
    return entry.hub.address;
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

  /** Stops serving the object and lets the hub close if nothing else needs it. */
  release(): void {
    const entry = registry().objects.get(this.id);
    registry().objects.delete(this.id);
    entry?.hub?.release();
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
}

/** One connection to one host, shared by every reference to its objects. */
class Client {
  #channel: Channel;
  #next = 1;
  #pending = new Map<
    number,
    { resolve(v: unknown): void; reject(e: unknown): void }
  >();
  #listeners = new Map<string, ((event: string, args: unknown[]) => void)[]>();
  #closed: Error | undefined;
  #outbox: { msg: CallMessage | BytesMessage; resolve(): void; reject(e: unknown): void }[] = [];
  #deferred: { o: string; m: string; items: unknown[] }[] = [];
  /** Whether a child waits, before it exits, for what it sent here. */
  waitAtExit = true;
  #exitHook = () => {
    const drained = this.drain();
    return this.waitAtExit ? drained : undefined;
  };
  #conn: Deno.Conn;
  #key: string;

  private constructor(key: string, channel: SocketChannel, conn: Deno.Conn) {
    this.#key = key;
    this.#channel = channel;
    this.#conn = conn;
    conn.unref();
    this.#readLoop();
  }

  static for(address: Address): Promise<Client> {
    const key = addressToString(address);
    const r = registry();
    const existing = r.clients.get(key);
    if (existing) return Promise.resolve(existing);
    return Client.#open(key, address);
  }

  static #opening = new Map<string, Promise<Client>>();

  static #open(key: string, address: Address): Promise<Client> {
    let p = Client.#opening.get(key);
    if (!p) {
      p = (async () => {
        try {
          const authed = await connectAuthed(address, state().authkey, 10_000);
          const channel = new SocketChannel(authed);
          await channel.send({ op: "attach", ident: state().ident });
          const client = new Client(key, channel, authed.conn);
          registry().clients.set(key, client);
          return client;
        } catch (err) {
          throw new ProcessError(
            `Cannot reach the process that hosts this object at ${key}: ${(err as Error).message}`,
            { cause: err },
          );
        } finally {
          Client.#opening.delete(key);
        }
      })();
      Client.#opening.set(key, p);
      // A child exiting while this opens waits for it, then for its flush.
      const hook = () => p!.then(() => {}, () => {});
      state().exitHooks.add(hook);
      p.finally(() => state().exitHooks.delete(hook)).catch(() => {});
    }
    return p;
  }

  async #readLoop(): Promise<void> {
    while (true) {
      const msg = await this.#channel.recv();
      if (msg === CLOSED) break;
      if (msg instanceof BytesMessage) {
        const h = msg.header as { p: string; ev: string; a?: unknown[] };
        for (const l of this.#listeners.get(h.p) ?? []) l(h.ev, [...(h.a ?? []), msg.bytes]);
        continue;
      }
      const m = msg as {
        r?: number;
        v?: unknown;
        e?: ErrorData;
        p?: string;
        ev?: string;
        a?: unknown[];
      };
      if (m.r !== undefined) {
        const waiter = this.#pending.get(m.r);
        if (!waiter) continue;
        this.#pending.delete(m.r);
        if (this.#pending.size === 0) this.#conn.unref();
        if (m.e) waiter.reject(errorFromData(m.e));
        else waiter.resolve(m.v);
      } else if (m.p !== undefined) {
        for (const l of this.#listeners.get(m.p) ?? []) l(m.ev!, m.a ?? []);
      }
    }
    this.#closed = new ProcessError(
      `Lost the connection to the process that hosts this object (${this.#key}): it has exited or closed it`,
    );
    registry().clients.delete(this.#key);
    for (const w of this.#pending.values()) w.reject(this.#closed);
    this.#pending.clear();
    for (const [id, ls] of this.#listeners) {
      for (const l of ls) l("disconnect", [id]);
    }
  }

  call(
    objectId: string,
    method: string,
    args: unknown[],
    opts: CallOptions = {},
  ): Promise<unknown> {
    if (this.#closed) return Promise.reject(this.#closed);
    const { signal, onOrphan } = opts;
    if (signal?.aborted) return Promise.reject(signal.reason);
    const r = this.#next++;
    return new Promise((resolve, reject) => {
      const onAbort = () => {
        const waiter = this.#pending.get(r);
        if (!waiter) return;
        // The host always replies; a value that arrives now is an orphan.
        waiter.resolve = (v) => onOrphan?.(v);
        waiter.reject = () => {};
        this.#enqueue({ c: r }).catch(() => {});
        reject(signal!.reason);
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      this.#pending.set(r, {
        resolve: (v) => {
          signal?.removeEventListener("abort", onAbort);
          resolve(v);
        },
        reject: (e) => {
          signal?.removeEventListener("abort", onAbort);
          reject(e);
        },
      });
      if (this.#pending.size === 1) this.#conn.ref();
      this.#enqueue({ r, o: objectId, m: method, a: args }).catch((err) => {
        this.#pending.delete(r);
        signal?.removeEventListener("abort", onAbort);
        reject(err);
      });
    });
  }

  post(objectId: string, method: string, args: unknown[]): Promise<void> {
    if (this.#closed) return Promise.reject(this.#closed);
    return this.#enqueue({ o: objectId, m: method, a: args });
  }

  /**
   * Queues `item` as an argument of a deferred call: consecutive deferred
   * calls of one method on one object become one call with every item, sent
   * at the end of this macrotask (or before any other message, which keeps
   * this process's calls in order). The item must surely encode.
   */
  defer(objectId: string, method: string, item: unknown): void {
    const last = this.#deferred.at(-1);
    if (last && last.o === objectId && last.m === method) {
      last.items.push(item);
      return;
    }
    if (this.#deferred.length === 0) {
      setImmediate(() => this.#flush());
      state().exitHooks.add(this.#exitHook);
    }
    this.#deferred.push({ o: objectId, m: method, items: [item] });
  }

  /**
   * Queues a message; the messages of one turn go out as one frame (one
   * encode on this side, one decode and dispatch on the host's).
   */
  #enqueue(msg: CallMessage | BytesMessage): Promise<void> {
    return new Promise((resolve, reject) => {
      if (this.#outbox.length === 0 && this.#deferred.length === 0) {
        queueMicrotask(() => this.#flush());
        state().exitHooks.add(this.#exitHook);
      }
      this.#outbox.push({ msg, resolve, reject });
    });
  }

  #flush(): void {
    const deferred = this.#deferred.map((d) => ({
      msg: { o: d.o, m: d.m, a: [d.items] },
      resolve() {},
      reject() {},
    }));
    this.#deferred = [];
    const out = [...deferred, ...this.#outbox];
    this.#outbox = [];
    // Bytes messages are frames of their own; the rest of a run shares one.
    let run: typeof out = [];
    for (const o of out) {
      if (o.msg instanceof BytesMessage) {
        this.#post(run);
        run = [];
        // Resolved once written: a sender of large buffers waits for a slow
        // reader instead of queueing without bound.
        this.#channel.send(o.msg).then(o.resolve, o.reject);
      } else {
        run.push(o);
      }
    }
    this.#post(run);
  }

  #post(
    run: { msg: CallMessage | BytesMessage; resolve(): void; reject(e: unknown): void }[],
  ): void {
    if (run.length === 0) return;
    const msg = run.length === 1 ? run[0].msg : { b: run.map((o) => o.msg as CallMessage) };
    this.#channel.post(msg).then(
      () => run.forEach((o) => o.resolve()),
      // Something in the batch cannot be cloned: send each alone.
      () => run.forEach((o) => this.#channel.post(o.msg).then(o.resolve, o.reject)),
    );
  }

  /** Posts a call whose last argument is raw bytes (see {@link BytesMessage}). */
  postBytes(objectId: string, method: string, args: unknown[], bytes: Uint8Array): Promise<void> {
    if (this.#closed) return Promise.reject(this.#closed);
    return this.#enqueue(new BytesMessage({ o: objectId, m: method, a: args }, bytes));
  }

  /** Resolves once every queued and deferred message is written. */
  drain(): Promise<void> {
    this.#flush();
    return this.#channel.drain();
  }

  close(): void {
    this.#channel.close();
  }

  /** Delivers a push to this object's listeners (from the socket or a worker's port). */
  pushed(objectId: string, event: string, args: unknown[]): void {
    for (const l of this.#listeners.get(objectId) ?? []) l(event, args);
  }

  listen(
    objectId: string,
    listener: (event: string, args: unknown[]) => void,
  ): void {
    const ls = this.#listeners.get(objectId) ?? [];
    ls.push(listener);
    this.#listeners.set(objectId, ls);
  }
}

/**
 * A reference to object `id` at `address`: the object itself when this
 * process hosts it, else a remote reference.
 */
export function refFor(address: Address, id: string): ObjectRef {
  return registry().objects.get(id)?.ref ?? new RemoteRef(address, id);
}

/** Resolves once every call posted to other hosts has been written. */
export async function drainClients(): Promise<void> {
  await Promise.all([...registry().clients.values()].map((c) => c.drain()));
}

/** Closes this process's connection to a host, failing its pending calls. */
export function closeClient(address: Address): void {
  registry().clients.get(addressToString(address))?.close();
}

// The host side: a connection that says "attach" is served until it closes.
onHubMessage("attach", (channel, first) => serveConnection(channel, String(first.ident ?? "")));

const LOCAL_WORKERS = Symbol.for("@mp/multiprocessing.localWorkers");

/** Ports of this process's running worker children, by ident. */
function localWorkers(): Map<string, MessagePortLike> {
  // deno-lint-ignore no-explicit-any
  const g = globalThis as any;
  return g[LOCAL_WORKERS] ??= new Map<string, MessagePortLike>();
}

/**
 * Registers a worker child's port: pushes to it (pipe data) then go by
 * `postMessage`, one structured-clone copy or a transfer, instead of
 * through the socket. Returns the unregister function.
 */
export function registerLocalWorker(ident: string, port: MessagePortLike): () => void {
  localWorkers().set(ident, port);
  return () => localWorkers().delete(ident);
}

/** A peer that is a worker of this process: pushes go over its port, in order. */
function portPeer(id: number, port: MessagePortLike): Peer {
  const host = addressToString(hubAddress()!);
  const push = (p: string, ev: string, a: unknown[], transfer?: Transferable[]) => {
    try {
      port.postMessage({ op: "push", host, p, ev, a }, transfer ?? []);
    } catch { /* the worker is gone */ }
  };
  return {
    id,
    push,
    pushBytes(p, ev, a, bytes) {
      push(p, ev, [...a, bytes]);
      return Promise.resolve();
    },
  };
}

// In a worker child, pushes from the parent arrive on its port.
state().portPush = (m) => registry().clients.get(m.host)?.pushed(m.p, m.ev, m.a);

const SERVED = Symbol.for("@mp/multiprocessing.served");

interface Served {
  ident: string;
  /** Aborts the connection's calls and detaches its objects; idempotent. */
  teardown(): void;
}

function served(): Map<Channel, Served> {
  // deno-lint-ignore no-explicit-any
  const g = globalThis as any;
  return g[SERVED] ??= new Map<Channel, Served>();
}

/**
 * Closes the connections of a process or worker that is gone, and of its
 * descendants (idents extend their parent's). A terminated worker's socket
 * can outlive it for a while; this detaches it at once, so what it held
 * (leased queue items, locks) goes back now.
 */
export function dropPeers(ident: string): void {
  for (const [channel, s] of served()) {
    if (isSelfOrDescendant(s.ident, ident)) {
      // Synchronously: an item put right after the kill must not go to it.
      s.teardown();
      channel.close();
    }
  }
}

function isSelfOrDescendant(id: string, ident: string): boolean {
  return id === ident || id.startsWith(`${ident}:`) || id.startsWith(`${ident}/`);
}

const CLOSED_WAITERS = Symbol.for("@mp/multiprocessing.closedWaiters");

function closedWaiters(): Set<() => void> {
  // deno-lint-ignore no-explicit-any
  const g = globalThis as any;
  return g[CLOSED_WAITERS] ??= new Set<() => void>();
}

/**
 * Resolves once the connections of an exited child (and its descendants)
 * have been read to their end and closed, so that what it sent is not lost
 * and nothing of it outlives its join; after `ms`, they are dropped.
 */
export function peersClosed(ident: string, ms: number): Promise<void> {
  const open = () => [...served().values()].some((s) => isSelfOrDescendant(s.ident, ident));
  if (!open()) return Promise.resolve();
  return new Promise((resolve) => {
    const check = () => {
      if (open()) return;
      done();
    };
    const timer = setTimeout(() => {
      dropPeers(ident);
      done();
    }, ms);
    const done = () => {
      clearTimeout(timer);
      closedWaiters().delete(check);
      resolve();
    };
    closedWaiters().add(check);
  });
}

/** Closes every connection this process opened to hosts (a child, at exit). */
export function closeClients(): void {
  for (const c of [...registry().clients.values()]) c.close();
}

state().closeClients = closeClients;

interface CallMessage {
  r?: number;
  o?: string;
  m?: string;
  a?: unknown[];
  c?: number;
  b?: CallMessage[];
}

async function serveConnection(channel: Channel, ident: string): Promise<void> {
  const r = registry();
  let tornDown = false;
  const teardown = () => {
    if (tornDown) return;
    tornDown = true;
    served().delete(channel);
    for (const check of [...closedWaiters()]) check();
    const gone = new DOMException("The caller's connection closed", "AbortError");
    for (const ctl of calls.values()) ctl.abort(gone);
    for (const obj of touched) obj.detach?.(peer);
  };
  const port = localWorkers().get(ident);
  const peer: Peer = port ? portPeer(r.nextPeer++, port) : {
    id: r.nextPeer++,
    push(objectId, event, args) {
      channel.post({ p: objectId, ev: event, a: args }).catch(() => {});
    },
    pushBytes(objectId, event, args, bytes) {
      return channel.send(new BytesMessage({ p: objectId, ev: event, a: args }, bytes)).catch(
        () => {},
      );
    },
  };
  const calls = new Map<number, AbortController>();
  const touched = new Set<Hosted>();
  const reply = (id: number, v: unknown, failed: boolean) => {
    if (!calls.delete(id)) return;
    const msg = failed ? { r: id, e: errorToData(v) } : { r: id, v };
    // A result that cannot be cloned fails that call only.
    channel.post(msg).catch((err) => channel.post({ r: id, e: errorToData(err) }).catch(() => {}));
  };
  const dispatch = (msg: CallMessage | BytesMessage) => {
    let m: CallMessage;
    if (msg instanceof BytesMessage) {
      m = msg.header as CallMessage;
      m.a = [...(m.a ?? []), msg.bytes];
    } else {
      m = msg;
    }
    if (m.b) return m.b.forEach(dispatch);
    if (m.c !== undefined) {
      // The call still replies (its value, or the abort): the caller treats
      // a value as an orphan and can give it back.
      calls.get(m.c)?.abort(new DOMException("Call cancelled by the caller", "AbortError"));
      return;
    }
    const entry = r.objects.get(String(m.o));
    const id = m.r;
    if (!entry) {
      if (id !== undefined) {
        calls.set(id, NEVER_CONTROLLER);
        reply(id, new ProcessError(`No object '${m.o}' here: it was released`), true);
      }
      return;
    }
    touched.add(entry.obj);
    if (id === undefined) {
      // Fire and forget: no reply, no cancellation, errors dropped.
      try {
        const v = entry.obj.call(String(m.m), m.a ?? [], peer, NEVER);
        if (v instanceof Promise) v.catch(() => {});
      } catch { /* the caller asked for no reply */ }
      return;
    }
    const ctl = new AbortController();
    calls.set(id, ctl);
    try {
      const v = entry.obj.call(String(m.m), m.a ?? [], peer, ctl.signal);
      if (v instanceof Promise) v.then((v) => reply(id, v, false), (e) => reply(id, e, true));
      else reply(id, v, false);
    } catch (err) {
      reply(id, err, true);
    }
  };
  served().set(channel, { ident, teardown });
  while (!tornDown) {
    const msg = await channel.recv();
    if (msg === CLOSED) break;
    dispatch(msg as CallMessage | BytesMessage);
  }
  teardown();
}

const NEVER_CONTROLLER = new AbortController();
