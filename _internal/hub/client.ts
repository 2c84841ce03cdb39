/**
 * The client side of the object server: one connection per host, shared by
 * every `RemoteRef` to that host's objects and multiplexing their
 * calls. Messages of one turn go out as one frame; replies and pushes come
 * back on the same connection.
 *
 * @module
 */

import { isolateGlobal } from "../base/state.ts";
import { onAbort } from "../base/async.ts";
import { type Channel, CLOSED, SocketChannel } from "../transport/channel.ts";
import { ProcessError } from "../base/errors.ts";
import type { CallMessage, CallOptions } from "./protocol.ts";
import { registry } from "./registry.ts";
import { state } from "../base/state.ts";
import { type Address, addressToString } from "../transport/address.ts";
import { connectAuthed } from "../transport/sockets.ts";
import { BytesMessage } from "../wire/codec.ts";
import { type ErrorData, errorFromData } from "../wire/error_data.ts";

// Deno provides Node's setImmediate as a global; its types are Node's.
declare function setImmediate(fn: () => void): unknown;

/** One connection to one host, shared by every reference to its objects. */
export class Client {
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

  /** The open connection to the host at `address`, if there is one. */
  static existing(address: Address): Client | undefined {
    return registry().clients.get(addressToString(address)) as Client | undefined;
  }

  /** The connection to the host at `address`, opened on first need. */
  static for(address: Address): Promise<Client> {
    const key = addressToString(address);
    const existing = Client.existing(address);
    if (existing) return Promise.resolve(existing);
    return Client.#open(key, address);
  }

  static #opening = new Map<string, Promise<Client>>();

  static #open(key: string, address: Address): Promise<Client> {
    let p = Client.#opening.get(key);
    if (!p) {
      p = (async () => {
        try {
          const authed = await connectAuthed(address, hostAuthkey(address), 10_000);
          const channel = new SocketChannel(authed);
          await channel.send({ op: "attach", ident: state().ident, daemon: state().daemon });
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

  /** Why the connection is gone, once it is. */
  get lost(): Error | undefined {
    return this.#closed;
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
      const off = onAbort(signal, (reason) => {
        const waiter = this.#pending.get(r);
        if (!waiter) return;
        // The host always replies; a value that arrives now is an orphan.
        waiter.resolve = (v) => onOrphan?.(v);
        waiter.reject = () => {};
        this.#enqueue({ c: r }).catch(() => {});
        reject(reason);
      });
      this.#pending.set(r, {
        resolve: (v) => (off(), resolve(v)),
        reject: (e) => (off(), reject(e)),
      });
      if (this.#pending.size === 1) this.#conn.ref();
      this.#enqueue({ r, o: objectId, m: method, a: args }).catch((err) => {
        this.#pending.delete(r);
        off();
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

function hostKeys(): Map<string, Uint8Array> {
  return isolateGlobal("hostKeys", () => (new Map<string, Uint8Array>()));
}

/**
 * Sets the key this process proves to the host at `address` (a manager
 * started with its own authkey); other hosts get this process tree's.
 */
export function setHostAuthkey(address: Address, authkey: Uint8Array): void {
  hostKeys().set(addressToString(address), authkey);
}

/** The key this process proves to the host at `address`. */
export function hostAuthkey(address: Address): Uint8Array {
  return hostKeys().get(addressToString(address)) ?? state().authkey;
}

/** Resolves once every call posted to other hosts has been written. */
export async function drainClients(): Promise<void> {
  await Promise.all([...registry().clients.values()].map((c) => c.drain()));
}

/** Closes this process's connection to a host, failing its pending calls. */
export function closeClient(address: Address): void {
  registry().clients.get(addressToString(address))?.close();
}

/** Closes every connection this process opened to hosts (a child, at exit). */
export function closeClients(): void {
  for (const c of [...registry().clients.values()]) c.close();
}

// A child closes its connections at exit, once what it sent is written.
state().closeClients = closeClients;
