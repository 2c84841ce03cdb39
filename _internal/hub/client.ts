/**
 * The client side of the object server: one connection per host, shared by
 * every `RemoteRef` to that host's objects and multiplexing their
 * calls. Messages of one turn go out as one frame; replies and pushes come
 * back on the same connection, checked (`messages.ts`).
 *
 * A connection belongs to this isolate's session (an id sent when it
 * attaches): a connection that is lost is replaced on the next call by one
 * of the same session, and the host keeps what the session holds (a
 * manager's references) for a grace period meanwhile. A child ends its
 * sessions at exit, once what it sent is written.
 *
 * Flow control: what this process has accepted for a host (deferred puts)
 * and not yet written counts against `limits().unsent`; past it, producers
 * wait ({@link Client.room}, {@link Client.whenRoom}).
 *
 * @module
 */

import { onAbort } from "../base/async.ts";
import { type Channel, CLOSED, SocketChannel } from "../transport/channel.ts";
import { ProcessError } from "../base/errors.ts";
import type { CallMessage, CallOptions, PushListener, PushPlacer } from "./protocol.ts";
import { type Outbound, readOutbound } from "./messages.ts";
import { notePeakUnsent } from "./flow.ts";
import { registry } from "./registry.ts";
import { state } from "../base/state.ts";
import { type Address, addressToString } from "../transport/address.ts";
import { connectRetrying } from "./connect.ts";
import { sessionId } from "./host_keys.ts";
import { openPort } from "./ports.ts";
import { BytesMessage } from "../wire/codec.ts";
import { placementEnded } from "../wire/placements.ts";
import { errorFromData } from "../wire/error_data.ts";
import { limits } from "../wire/limits.ts";
import { WithHandles } from "./handles.ts";
import { type Grant, grantsFor, onGrants } from "./grants.ts";
import type { Path } from "./paths.ts";

// Deno provides Node's setImmediate as a global; its types are Node's.
declare function setImmediate(fn: () => void): unknown;

/** Bytes not read yet: the placeholder a push's header is checked with before they are placed. */
const NO_BYTES = new Uint8Array(0);

/** Deferred items flushed at once from this many bytes (a frame of moderate size). */
const DEFER_FLUSH = 64 * 1024;

type Outgoing = { msg: CallMessage | BytesMessage; resolve(): void; reject(e: unknown): void };

/** One connection to one host, shared by every reference to its objects. */
export class Client {
  #channel: Channel;
  #next = 1;
  #pending = new Map<
    number,
    { resolve(v: unknown): void; reject(e: unknown): void }
  >();
  #listeners = new Map<string, PushListener[]>();
  #placers = new Map<string, PushPlacer[]>();
  #closed: Error | undefined;
  #outbox: Outgoing[] = [];
  /** Deferred calls, one per object and method, in the order each was first deferred. */
  #deferred: { o: string; m: string; items: unknown[] }[] = [];
  #deferredBytes = 0;
  #flushArmed = false;
  /** Whether a child waits, before it exits, for what it sent here. */
  waitAtExit = true;
  /**
   * At a child's exit: what is queued is written, then the session ends.
   * Registered while the connection is open, removed when it closes.
   */
  #exitHook = () => {
    this.#flush();
    this.#channel.post({ end: true }).catch(() => {});
    const drained = this.#channel.drain();
    return this.waitAtExit ? drained : undefined;
  };
  #key: string;

  private constructor(key: string, channel: Channel) {
    this.#key = key;
    this.#channel = channel;
    if (channel instanceof SocketChannel) channel.placer = (h, n) => this.#place(h, n);
    channel.unref();
    state().exitHooks.add(this.#exitHook);
    this.#readLoop();
  }

  /** The open connection to the host at `address`, if there is one. */
  static existing(address: Address): Client | undefined {
    const c = registry().clients.get(addressToString(address)) as Client | undefined;
    return c && !c.#closed ? c : undefined;
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
          // A hub with no socket is reached over a port of this worker's (`ports.ts`).
          const channel = await openPort(key) ??
            new SocketChannel(await connectRetrying(address));
          // A sandboxed process shows the grants it holds for this host.
          const grants = grantsFor(address);
          await channel.send({
            op: "attach",
            ident: state().ident,
            session: sessionId(),
            daemon: state().daemon,
            ...(grants.length > 0 ? { g: grants } : {}),
          });
          const client = new Client(key, channel);
          registry().clients.set(key, client);
          // Grants that arrived while this connected go now.
          const later = grantsFor(address).slice(grants.length);
          if (later.length > 0) client.grant(later);
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
      try {
        this.#receive(msg);
      } catch {
        // A host that breaks the protocol: this connection is done with.
        this.#channel.close();
        break;
      } finally {
        // Bytes placed in a reader's buffer and not delivered there (refused,
        // or sent on elsewhere): its inbox stops holding others behind them.
        if (msg instanceof BytesMessage) placementEnded(msg.bytes);
      }
    }
    this.#lose(
      new ProcessError(
        `Lost the connection to the process that hosts this object (${this.#key}): it has exited or closed it`,
      ),
    );
    for (const [id, ls] of this.#listeners) {
      for (const l of ls) l("disconnect", [id]);
    }
  }

  #receive(msg: unknown): void {
    const m = readOutbound(msg);
    if (m.kind === "push") {
      for (const l of this.#listeners.get(m.objectId) ?? []) l(m.event, m.args);
      return;
    }
    const waiter = this.#pending.get(m.id);
    if (!waiter) return;
    this.#pending.delete(m.id);
    if (this.#pending.size === 0) this.#channel.unref();
    if (m.kind === "error") waiter.reject(errorFromData(m.error));
    else waiter.resolve(m.handles ? new WithHandles(m.value, m.handles) : m.value);
  }

  /** Marks the connection gone: pending calls fail, and it is no longer found or kept. */
  #lose(err: Error): void {
    if (this.#closed) return;
    this.#closed = err;
    if (registry().clients.get(this.#key) === this) registry().clients.delete(this.#key);
    state().exitHooks.delete(this.#exitHook);
    for (const w of this.#pending.values()) w.reject(err);
    this.#pending.clear();
    for (const o of this.#outbox) o.reject(err);
    this.#outbox = [];
    this.#deferred = [];
    this.#deferredBytes = 0;
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
    const { signal, onOrphan, handles } = opts;
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
      if (this.#pending.size === 1) this.#channel.ref();
      const msg: CallMessage = { r, o: objectId, m: method, a: args };
      if (handles) msg.h = handles;
      this.#enqueue(msg).catch((err) => {
        this.#pending.delete(r);
        off();
        reject(err);
      });
    });
  }

  post(objectId: string, method: string, args: unknown[], handles?: Path[]): Promise<void> {
    if (this.#closed) return Promise.reject(this.#closed);
    return this.#enqueue(
      handles ? { o: objectId, m: method, a: args, h: handles } : {
        o: objectId,
        m: method,
        a: args,
      },
    );
  }

  /**
   * Queues `item` as an argument of a deferred call: deferred calls of one
   * method on one object become one call with every item, sent
   * at the end of this macrotask (or before any other message, which keeps
   * this process's calls in order, or once they pass {@link DEFER_FLUSH}
   * bytes). The item must surely encode, and is encoded as it is then: pass
   * a copy (the queue's put does), never a caller's object that may change
   * meanwhile (`call` and `post` copy theirs at the call, in `refs.ts`);
   * `size` is about its encoded bytes.
   *
   * @throws {ProcessError} Once the connection is lost.
   */
  defer(objectId: string, method: string, item: unknown, size = 8): void {
    if (this.#closed) throw this.#closed;
    // One call per object and method gathers every item deferred to it since
    // the last message: a relay that acks on one queue and puts on another
    // sends two calls per turn, not two per item. (Calls to different
    // objects are independent: no order between them is promised.)
    const d = this.#deferredTo(objectId, method);
    if (d) d.items.push(item);
    else this.#deferred.push({ o: objectId, m: method, items: [item] });
    this.#deferredBytes += size;
    if (this.#deferredBytes >= DEFER_FLUSH) this.#flush();
    else if (!this.#flushArmed) {
      this.#flushArmed = true;
      setImmediate(() => this.#flush());
    }
    notePeakUnsent(this.unsent());
  }

  /**
   * Defers `n` as {@link Client.defer} does, as part of a run: the deferred
   * call's items are `[first, count]` pairs, and a number that follows the
   * last run (still unsent) extends it, so a consumer acking a batch of
   * leases one by one sends one pair.
   *
   * @throws {ProcessError} Once the connection is lost.
   */
  deferRun(objectId: string, method: string, n: number): void {
    if (this.#closed) throw this.#closed;
    const items = this.#deferredTo(objectId, method)?.items;
    const last = items?.[items.length - 1] as [number, number] | undefined;
    if (last && last[0] + last[1] === n) last[1]++;
    else this.defer(objectId, method, [n, 1], 16);
  }

  /** Bytes accepted for this host and not yet written. */
  unsent(): number {
    return this.#deferredBytes + this.#channel.queued();
  }

  /** Whether a producer may hand this host more now (see the module doc). */
  room(): boolean {
    return !!this.#closed || this.unsent() <= limits().unsent;
  }

  /** Sends what waits, and resolves once half the bound is left (or the connection is gone). */
  whenRoom(): Promise<void> {
    if (this.#closed) return Promise.reject(this.#closed);
    this.#flush();
    return this.#channel.whenBelow(limits().unsent / 2);
  }

  /**
   * Queues a message; the messages of one turn go out as one frame (one
   * encode on this side, one decode and dispatch on the host's).
   */
  #enqueue(msg: CallMessage | BytesMessage): Promise<void> {
    return new Promise((resolve, reject) => {
      if (this.#outbox.length === 0) queueMicrotask(() => this.#flush());
      // What was deferred before this message goes before it.
      this.#sealDeferred();
      this.#outbox.push({ msg, resolve, reject });
    });
  }

  /** Moves the deferred calls to the outbox, as messages. */
  #sealDeferred(): void {
    if (this.#deferred.length === 0) return;
    for (const d of this.#deferred) {
      this.#outbox.push({ msg: { o: d.o, m: d.m, a: [d.items] }, resolve() {}, reject() {} });
    }
    this.#deferred = [];
  }

  /** The deferred call to `o.m`, if any (looked for among the last few: there are few). */
  #deferredTo(o: string, m: string): { o: string; m: string; items: unknown[] } | undefined {
    const ds = this.#deferred;
    for (let i = ds.length - 1; i >= 0 && i >= ds.length - 8; i--) {
      if (ds[i].o === o && ds[i].m === m) return ds[i];
    }
    return undefined;
  }

  #flush(): void {
    this.#flushArmed = false;
    this.#sealDeferred();
    this.#deferredBytes = 0;
    if (this.#outbox.length === 0) return;
    const out = this.#outbox;
    this.#outbox = [];
    // Bytes messages are frames of their own; the rest of a run shares one.
    let run: Outgoing[] = [];
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

  #post(run: Outgoing[]): void {
    if (run.length === 0) return;
    const msg = run.length === 1 ? run[0].msg : { b: run.map((o) => o.msg as CallMessage) };
    this.#channel.post(msg).then(
      () => run.forEach((o) => o.resolve()),
      // Something in the batch cannot be cloned (or the batch is over the
      // size limit): send each alone, so that only its own sender hears.
      () => run.forEach((o) => this.#channel.post(o.msg).then(o.resolve, o.reject)),
    );
  }

  /** Posts a call whose last argument is raw bytes (see {@link BytesMessage}). */
  postBytes(objectId: string, method: string, args: unknown[], bytes: Uint8Array): Promise<void> {
    if (this.#closed) return Promise.reject(this.#closed);
    return this.#enqueue(new BytesMessage({ o: objectId, m: method, a: args }, bytes));
  }

  /** Shows the host grants that arrived after this connection attached (a pool task's). */
  grant(grants: Grant[]): void {
    if (this.#closed) return;
    this.#enqueue({ g: grants }).catch(() => {});
  }

  /** Resolves once every queued and deferred message is written. */
  drain(): Promise<void> {
    this.#flush();
    return this.#channel.drain();
  }

  /**
   * Hangs up without ending the session, as a lost connection does: the
   * host keeps what the session holds for the grace period. Pending calls
   * fail.
   */
  close(): void {
    this.#channel.close();
    this.#lose(
      new ProcessError(
        `The connection to the process that hosts this object (${this.#key}) was closed`,
      ),
    );
  }

  /** Ends the session with this host once what is queued is written, then hangs up. */
  end(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    this.#flush();
    this.#channel.post({ end: true }).catch(() => {});
    return this.#channel.drain().finally(() => this.close());
  }

  /** Delivers a push to this object's listeners (from the socket or a worker's port). */
  pushed(objectId: string, event: string, args: unknown[]): void {
    for (const l of this.#listeners.get(objectId) ?? []) l(event, args);
  }

  listen(objectId: string, listener: PushListener, place?: PushPlacer): void {
    const ls = this.#listeners.get(objectId) ?? [];
    ls.push(listener);
    this.#listeners.set(objectId, ls);
    if (!place) return;
    const ps = this.#placers.get(objectId) ?? [];
    ps.push(place);
    this.#placers.set(objectId, ps);
  }

  /**
   * Where the bytes of a push whose frame is being read go (see
   * {@link SocketChannel.placer}): asked of its object's placers, once its
   * header is checked as {@link Client.#receive} will check it.
   */
  #place(header: unknown, length: number): Uint8Array | undefined {
    let m: Outbound;
    try {
      m = readOutbound(new BytesMessage(header, NO_BYTES));
    } catch {
      return undefined;
    }
    if (m.kind !== "push") return undefined;
    const args = m.args.slice(0, -1);
    for (const place of this.#placers.get(m.objectId) ?? []) {
      const into = place(m.event, args, length);
      if (into) return into;
    }
    return undefined;
  }
}

/** Resolves once every call posted to other hosts has been written. */
export async function drainClients(): Promise<void> {
  await Promise.all([...registry().clients.values()].map((c) => c.drain()));
}

/** Ends this process's session with a host and hangs up, failing its pending calls. */
export function closeClient(address: Address): Promise<void> {
  return (registry().clients.get(addressToString(address)) as Client | undefined)?.end() ??
    Promise.resolve();
}

/**
 * Hangs up on a host without ending the session, as a lost connection
 * does (tests of reconnection).
 */
export function loseClient(address: Address): void {
  (registry().clients.get(addressToString(address)) as Client | undefined)?.close();
}

/** Closes every connection this process opened to hosts (a child, at exit). */
export function closeClients(): void {
  for (const c of [...registry().clients.values()]) c.close();
}

// A child closes its connections at exit, once what it sent is written.
state().closeClients = closeClients;

// In a worker child, pushes from hosts in the parent arrive on its port
// (`child_linked.ts`), for the connection that listens: set with it, since
// a child that reaches objects need not load the object server.
state().portPush = (m) =>
  registry().clients.get(m.host)?.pushed(m.p, m.ev, m.j === undefined ? m.a! : JSON.parse(m.j));

// Grants a pool task brings go to the host's connection, before the calls that need them.
onGrants((address, grants) =>
  (registry().clients.get(address) as Client | undefined)?.grant(grants)
);
