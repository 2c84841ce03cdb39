/**
 * The queue itself, hosted by the process that created it. Handles call it
 * directly (in the host) or over the object server (elsewhere).
 *
 * Items handed to a remote consumer are leased to its connection until it
 * acknowledges them (it does when it hands them to its caller); if the
 * connection drops first (the consumer was killed), they go back to the
 * front of the queue: an item is never lost because its consumer died
 * before receiving it. Remote consumers fetch several items per round trip
 * when several wait, so a stream costs a fraction of a round trip per item.
 *
 * @module
 */

import { onAbort } from "../base/async.ts";

import { QueueClosedError, QueueEmptyError, QueueFullError } from "../base/errors.ts";
import type { Hosted, Peer } from "../hub/protocol.ts";

interface Getter {
  max: number;
  peer: Peer;
  resolve(items: unknown[]): void;
  reject(err: unknown): void;
}

interface Putter {
  item: unknown;
  resolve(): void;
  reject(err: unknown): void;
}

/** A FIFO of items with Python's queue semantics, plus leases and close. */
export class QueueCore implements Hosted {
  #items: unknown[] = [];
  #head = 0;
  #maxsize: number;
  #closed = false;
  #getters: Getter[] = [];
  #putters: Putter[] = [];
  #leases = new Map<number, unknown[]>();
  #unfinished = 0;
  #joiners: (() => void)[] = [];
  #peers = new Map<number, Peer>();
  /** The id the object server knows this queue by (set once it is hosted). */
  id = "";

  /** A queue holding at most `maxsize` items (0: unbounded). */
  constructor(maxsize: number) {
    this.#maxsize = maxsize;
  }

  get #size(): number {
    return this.#items.length - this.#head;
  }

  #full(): boolean {
    return this.#maxsize > 0 && this.#size >= this.#maxsize;
  }

  call(method: string, args: unknown[], peer: Peer, signal: AbortSignal): unknown {
    if (peer.id !== 0) this.#peers.set(peer.id, peer);
    switch (method) {
      case "put":
        return this.put(args[0], args[1] as number | null, signal);
      case "putMany":
        return this.putMany(args[0] as unknown[]);
      case "get":
        return this.get(args[0] as number | null, args[1] as number, peer, signal);
      case "ack":
        return this.ack(peer, args[0] as number);
      case "ackMany":
        return this.ack(peer, (args[0] as number[]).length);
      case "nack":
        return this.nack(peer, args[0] as unknown[]);
      case "qsize":
        return this.#size;
      case "full":
        return this.#full();
      case "close":
        return this.close();
      case "closed":
        return this.#closed;
      case "taskDone":
        return this.taskDone();
      case "join":
        return this.join(signal);
      case "sync":
        return null;
    }
    throw new TypeError(`Queue has no method '${method}'`);
  }

  /**
   * Adds an item. `timeout`: null waits for room forever, 0 does not wait,
   * else milliseconds.
   */
  put(item: unknown, timeout: number | null, signal: AbortSignal): Promise<void> | void {
    if (this.#closed) throw new QueueClosedError("Cannot put to queue: it is closed", item);
    if (!this.#full() && this.#putters.length === 0) return this.#accept(item);
    if (timeout === 0) throw new QueueFullError();
    return new Promise<void>((resolve, reject) => {
      const putter: Putter = { item, resolve, reject };
      this.#putters.push(putter);
      this.#wait(putter, this.#putters, timeout, signal, () => new QueueFullError());
    });
  }

  /** Adds items from a producer that does not wait for room (unbounded queues). */
  putMany(items: unknown[]): void {
    for (const item of items) {
      if (this.#closed) return;
      this.#accept(item);
    }
  }

  #accept(item: unknown): void {
    this.#unfinished++;
    const getter = this.#getters.shift();
    if (getter) {
      this.#lease(getter.peer, [item]);
      getter.resolve([item]);
    } else {
      this.#items.push(item);
    }
  }

  /**
   * Takes up to `max` items (at least one). `timeout` as for {@link put}.
   */
  get(
    timeout: number | null,
    max: number,
    peer: Peer,
    signal: AbortSignal,
  ): Promise<unknown[]> | unknown[] {
    if (this.#size > 0) return this.#take(Math.max(1, max), peer);
    if (this.#closed) throw new QueueClosedError("Cannot get from queue: it is closed and empty");
    if (timeout === 0) throw new QueueEmptyError();
    return new Promise<unknown[]>((resolve, reject) => {
      const getter: Getter = { max, peer, resolve, reject };
      this.#getters.push(getter);
      this.#wait(getter, this.#getters, timeout, signal, () => new QueueEmptyError());
    });
  }

  #take(max: number, peer: Peer): unknown[] {
    const n = Math.min(max, this.#size);
    const out = this.#items.slice(this.#head, this.#head + n);
    this.#head += n;
    if (this.#head > 1024 && this.#head * 2 > this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
    this.#lease(peer, out);
    this.#admitPutters();
    return out;
  }

  #lease(peer: Peer, items: unknown[]): void {
    if (peer.id === 0) return;
    const held = this.#leases.get(peer.id);
    if (held) held.push(...items);
    else this.#leases.set(peer.id, [...items]);
  }

  /** The peer handed its `n` oldest leased items to its caller. */
  ack(peer: Peer, n: number): void {
    this.#leases.get(peer.id)?.splice(0, n);
  }

  /** The peer gives items back (a cancelled get): they return to the front. */
  nack(peer: Peer, items: unknown[]): void {
    const held = this.#leases.get(peer.id);
    if (held) held.splice(held.length - items.length, items.length);
    this.#unget(items);
  }

  #unget(items: unknown[]): void {
    if (items.length === 0) return;
    // Waiting getters take the first ones; the rest go back to the front.
    // (concat, not push(...spread): a backlog can exceed the argument limit.)
    let i = 0;
    for (; i < items.length && this.#getters.length > 0; i++) {
      const getter = this.#getters.shift()!;
      this.#lease(getter.peer, [items[i]]);
      getter.resolve([items[i]]);
    }
    if (i < items.length) {
      this.#items = items.slice(i).concat(this.#items.slice(this.#head));
      this.#head = 0;
    }
  }

  #admitPutters(): void {
    while (this.#putters.length > 0 && !this.#full()) {
      const p = this.#putters.shift()!;
      this.#accept(p.item);
      p.resolve();
    }
  }

  // deno-lint-ignore no-explicit-any
  #wait<W extends { reject(err: unknown): void; resolve(v?: any): void }>(
    waiter: W,
    list: W[],
    timeout: number | null,
    signal: AbortSignal,
    onTimeout: () => Error,
  ): void {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const settle = (err: unknown) => {
      const i = list.indexOf(waiter);
      if (i < 0) return;
      list.splice(i, 1);
      waiter.reject(err);
    };
    if (timeout !== null) timer = setTimeout(() => settle(onTimeout()), timeout);
    const off = onAbort(signal, settle);
    const { resolve, reject } = waiter;
    const done = () => {
      clearTimeout(timer);
      off();
    };
    waiter.resolve = ((v: never) => (done(), resolve(v))) as W["resolve"];
    waiter.reject = (e: unknown) => (done(), reject(e));
  }

  /** Closes the queue for everyone: puts fail, gets drain then fail. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const g of this.#getters.splice(0)) {
      g.reject(new QueueClosedError("Cannot get from queue: it is closed and empty"));
    }
    for (const p of this.#putters.splice(0)) {
      p.reject(new QueueClosedError("Cannot put to queue: it is closed", p.item));
    }
    for (const peer of this.#peers.values()) peer.push(this.id, "closed", []);
  }

  /** Marks one fetched item as processed (JoinableQueue). */
  taskDone(): void {
    if (this.#unfinished <= 0) {
      throw new RangeError(
        "Cannot mark a task done: taskDone() was called more times than items were put",
      );
    }
    if (--this.#unfinished === 0) { for (const j of this.#joiners.splice(0)) j(); }
  }

  /** Resolves once every item put has been marked done. */
  join(signal: AbortSignal): Promise<void> | void {
    if (this.#unfinished === 0) return;
    return new Promise<void>((resolve, reject) => {
      let off = () => {};
      const joiner = () => {
        off();
        resolve();
      };
      this.#joiners.push(joiner);
      off = onAbort(signal, (reason) => {
        this.#joiners.splice(this.#joiners.indexOf(joiner), 1);
        reject(reason);
      });
    });
  }

  /** A consumer's connection dropped: its undelivered items go back to the front. */
  detach(peer: Peer): void {
    this.#peers.delete(peer.id);
    const held = this.#leases.get(peer.id);
    this.#leases.delete(peer.id);
    if (held) this.#unget(held);
  }
}
