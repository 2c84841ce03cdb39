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

import { LeaseBook } from "./lease_book.ts";
import { onAbort } from "../base/async.ts";

import { QueueClosedError, QueueEmptyError, QueueFullError } from "../base/errors.ts";
import type { Hosted, Peer } from "../hub/protocol.ts";
import { argArray, argInt, argTimeout } from "../hub/args.ts";
import { checkPaths, type Path } from "../hub/handles.ts";

/**
 * An item that holds handles, packed (descriptors where the handles were,
 * and their paths): revived into working handles where it is read. Only
 * the host and its readers wrap items in it; on the wire, which items are
 * packed and where their handles are travels beside them ({@link Leased}),
 * never inside a value.
 */
export class Packed {
  /** Wraps a packed item and the paths of its handles. */
  constructor(readonly value: unknown, readonly handles: Path[]) {}
}

/**
 * What a get across a connection receives: the items (unwrapped), the
 * lease number of the first (the others follow it), and the indices of
 * those that are packed, when some are.
 */
export interface Leased {
  /** The items. */
  i: unknown[];
  /** The lease number of the first item; the next ones follow. */
  s: number;
  /** The packed items, when there are any: each one's index and its handles' paths. */
  h?: [number, Path[]][];
}

/** The most items a consumer may ask for at once. */
const MAX_BATCH = 1 << 16;

interface Getter {
  max: number;
  peer: Peer;
  resolve(items: unknown[] | Leased): void;
  reject(err: unknown): void;
}

interface Putter {
  item: unknown;
  resolve(): void;
  reject(err: unknown): void;
}

/** What {@link QueueCore.takeNow} returns when the queue is empty. */
export const EMPTY: unique symbol = Symbol("empty");

/** A FIFO of items with Python's queue semantics, plus leases and close. */
export class QueueCore implements Hosted {
  #items: unknown[] = [];
  #head = 0;
  #maxsize: number;
  #closed = false;
  #getters: Getter[] = [];
  #putters: Putter[] = [];
  /** Items leased to each peer, by lease number, in the order they were leased. */
  #leases = new Map<number, LeaseBook>();
  #leased = 0;
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
      case "put": {
        const timeout = argTimeout(args, 1, method);
        const handles = args[2] === undefined ? undefined : checkPaths(args[2]);
        return this.put(handles ? new Packed(args[0], handles) : args[0], timeout, signal);
      }
      case "putMany":
        return this.putMany(argArray(args, 0, method), packedIndices(args[1]));
      case "get":
        return this.get(
          argTimeout(args, 0, method),
          argInt(args, 1, method, 1, MAX_BATCH),
          peer,
          signal,
        );
      case "ack":
        return this.ack(peer, [argInt(args, 0, method)]);
      case "ackMany":
        return this.ack(peer, argArray(args, 0, method));
      case "ackRuns":
        return this.ackRuns(peer, argArray(args, 0, method));
      case "nack":
        return this.nack(peer, argArray(args, 0, method));
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
    if (this.#closed) throw new QueueClosedError("Cannot put to queue: it is closed", unwrap(item));
    if (!this.#full() && this.#putters.length === 0) return this.#accept(item);
    if (timeout === 0) throw new QueueFullError();
    return new Promise<void>((resolve, reject) => {
      const putter: Putter = { item, resolve, reject };
      this.#putters.push(putter);
      this.#wait(putter, this.#putters, timeout, signal, () => new QueueFullError());
    });
  }

  /**
   * Adds items from a producer that does not wait for room (unbounded
   * queues); those at `packed` hold handles.
   */
  putMany(items: unknown[], packed?: Map<number, Path[]>): void {
    for (let i = 0; i < items.length; i++) {
      if (this.#closed) return;
      const handles = packed?.get(i);
      this.#accept(handles ? new Packed(items[i], handles) : items[i]);
    }
  }

  /**
   * Adds an item if a put would now without waiting (the host's own put,
   * without a call); false when the queue is closed or full, or others wait
   * to put (then `put` says what to do).
   */
  offer(item: unknown): boolean {
    if (this.#closed || this.#full() || this.#putters.length > 0) return false;
    this.#accept(item);
    return true;
  }

  /**
   * The first item, taken now, or {@link EMPTY} when there is none (the
   * host's own get, without a call; one that waits goes through `get`).
   */
  takeNow(): unknown {
    if (this.#size === 0) return EMPTY;
    const item = this.#items[this.#head];
    this.#advance(1);
    return item;
  }

  #accept(item: unknown): void {
    this.#unfinished++;
    const getter = this.#getters.shift();
    if (getter) {
      getter.resolve(forPeer(getter.peer, [item], this.#lease(getter.peer, [item])));
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
  ): Promise<unknown[] | Leased> | unknown[] | Leased {
    if (this.#size > 0) {
      const items = this.#take(Math.max(1, max));
      return forPeer(peer, items, this.#lease(peer, items));
    }
    if (this.#closed) throw new QueueClosedError("Cannot get from queue: it is closed and empty");
    if (timeout === 0) throw new QueueEmptyError();
    return new Promise<unknown[] | Leased>((resolve, reject) => {
      const getter: Getter = { max, peer, resolve, reject };
      this.#getters.push(getter);
      this.#wait(getter, this.#getters, timeout, signal, () => new QueueEmptyError());
    });
  }

  #take(max: number): unknown[] {
    const n = Math.min(max, this.#size);
    const out = this.#items.slice(this.#head, this.#head + n);
    this.#advance(n);
    return out;
  }

  /** Drops the first `n` items (taken), and lets waiting putters in. */
  #advance(n: number): void {
    this.#head += n;
    if (this.#head > 1024 && this.#head * 2 > this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
    this.#admitPutters();
  }

  /** Leases items to a peer elsewhere; returns the first one's lease number (0 here). */
  #lease(peer: Peer, items: unknown[]): number {
    if (peer.id === 0) return 0;
    const first = this.#leased + 1;
    let held = this.#leases.get(peer.id);
    if (!held) this.#leases.set(peer.id, held = new LeaseBook());
    held.add(first, items);
    this.#leased += items.length;
    return first;
  }

  /** The peer handed these leased items to its caller. */
  ack(peer: Peer, leases: unknown[]): void {
    const held = this.#leases.get(peer.id);
    if (held) { for (const n of leases) held.take(n); }
  }

  /** As {@link ack}, for `[first, count]` runs of lease numbers (malformed ones ignored). */
  ackRuns(peer: Peer, runs: unknown[]): void {
    const held = this.#leases.get(peer.id);
    if (!held) return;
    for (const run of runs) {
      if (Array.isArray(run) && run.length === 2) held.takeRun(run[0], run[1]);
    }
  }

  /**
   * The peer gives back leased items (fetched ahead, or got by a cancelled
   * get): they return to the front, in the order given, as they were here.
   */
  nack(peer: Peer, leases: unknown[]): void {
    const held = this.#leases.get(peer.id);
    if (!held) return;
    const back: unknown[] = [];
    for (const n of leases) {
      const leased = held.take(n);
      if (leased) back.push(leased.item);
    }
    this.#unget(back);
  }

  #unget(items: unknown[]): void {
    if (items.length === 0) return;
    // Waiting getters take the first ones; the rest go back to the front.
    // (concat, not push(...spread): a backlog can exceed the argument limit.)
    let i = 0;
    for (; i < items.length && this.#getters.length > 0; i++) {
      const getter = this.#getters.shift()!;
      getter.resolve(forPeer(getter.peer, [items[i]], this.#lease(getter.peer, [items[i]])));
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
      p.reject(new QueueClosedError("Cannot put to queue: it is closed", unwrap(p.item)));
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
    if (held) this.#unget(held.drain());
  }
}

function unwrap(item: unknown): unknown {
  return item instanceof Packed ? item.value : item;
}

/** The packed items of a `putMany` (index, and its handles' paths), checked. */
function packedIndices(v: unknown): Map<number, Path[]> | undefined {
  if (v === undefined) return undefined;
  const ok = Array.isArray(v) &&
    v.every((e) => Array.isArray(e) && e.length === 2 && Number.isInteger(e[0]) && e[0] >= 0);
  if (!ok) {
    throw new TypeError("Cannot call 'putMany': argument 2 must be an array of [index, paths]");
  }
  return new Map((v as [number, unknown][]).map(([i, paths]) => [i, checkPaths(paths)]));
}

/**
 * Items as a peer receives them: for the host itself, as they are (packed
 * ones wrapped); across a connection, unwrapped, with their lease numbers
 * and which are packed beside them.
 */
function forPeer(peer: Peer, items: unknown[], first: number): unknown[] | Leased {
  if (peer.id === 0) return items;
  let h: [number, Path[]][] | undefined;
  for (let i = 0; i < items.length; i++) {
    const item = items[i];
    if (item instanceof Packed) (h ??= []).push([i, item.handles]);
  }
  return h ? { i: items.map(unwrap), s: first, h } : { i: items, s: first };
}
