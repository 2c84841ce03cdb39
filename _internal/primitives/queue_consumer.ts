/**
 * A queue handle's get in a process that does not host the queue. Items are
 * fetched several per round trip when several wait, leased to this
 * connection until they are handed out (the host takes them back if this
 * process dies first), and items that hold handles are revived into working
 * handles as they are handed out.
 *
 * @module
 */

import type { ObjectRef } from "../hub/protocol.ts";
import { checkPaths, reviveAt } from "../hub/handles.ts";
import { type Leased, Packed } from "./queue_core.ts";

/** Largest batch a remote consumer asks for at once, its window doubling on each full reply. */
const MAX_WINDOW = 1024;

/**
 * Largest batch a fast consumer asks for: past {@link MAX_WINDOW}, one
 * asks for about what it handed out in {@link FAST_MS} (measured between
 * its last two batches), so that what it holds ahead stays a few
 * milliseconds of its work while it costs fewer round trips.
 */
const FAST_WINDOW = 4096;

/** Milliseconds of a fast consumer's work it fetches ahead, at most. */
const FAST_MS = 10;

/** Milliseconds a remote consumer keeps items fetched ahead while it asks for none. */
const HOLD_MS = 20;

/** Items as a get replies them: wrapped, with their handles' paths, where they are packed. */
function unpack(reply: Leased): unknown[] {
  if (!reply.h) return reply.i;
  const items = reply.i.slice();
  for (const entry of reply.h) {
    const [i, paths] = entry as [unknown, unknown];
    if (!Number.isInteger(i) || (i as number) < 0 || (i as number) >= items.length) {
      throw new TypeError("Cannot get from queue: the host sent a malformed reply");
    }
    items[i as number] = new Packed(items[i as number], checkPaths(paths));
  }
  return items;
}

/** The lease numbers of a reply's items. */
function leasesOf(reply: Leased): number[] {
  const leases = new Array<number>(reply.i.length);
  for (let k = 0; k < leases.length; k++) leases[k] = reply.s + k;
  return leases;
}

/**
 * An item as its reader gets it: a packed one with working handles, at the
 * paths its producer listed beside it (and nowhere else).
 */
export function handOver<T>(item: unknown): T | Promise<T> {
  return item instanceof Packed ? reviveAt(item.value, item.handles) as Promise<T> : item as T;
}

/** The consuming side of one queue handle, away from its host. */
export class QueueConsumer<T> {
  #ref: ObjectRef;
  // Items fetched, from #head on (an index, not shift(): a batch is up to
  // MAX_WINDOW items, handed out one at a time).
  #buffer: unknown[] = [];
  /** The lease number of each buffered item. */
  #leases: number[] = [];
  #head = 0;
  #window = 1;
  #prefetching: Promise<void> | undefined;
  #handed = 0;
  #handedAtArm = 0;
  /** When the last batch came, and how many items had been handed out then. */
  #tookAt = 0;
  #handedAtTake = 0;
  #idle: ReturnType<typeof setTimeout> | undefined;

  /** Gets from the queue `ref` reaches. */
  constructor(ref: ObjectRef) {
    this.#ref = ref;
  }

  /** Items fetched and not yet handed out. */
  get buffered(): number {
    return this.#buffer.length - this.#head;
  }

  /** The next item; `timeout` as for the queue's get. */
  get(timeout: number | null, signal?: AbortSignal): Promise<T> {
    // An item already fetched costs no more promises than the one returned.
    if (this.#head < this.#buffer.length) {
      const item = this.#handOut();
      this.#prefetchIfLow();
      return Promise.resolve(handOver<T>(item));
    }
    return this.#fetch(timeout, signal);
  }

  async #fetch(timeout: number | null, signal?: AbortSignal): Promise<T> {
    while (true) {
      if (this.#head < this.#buffer.length) {
        const item = this.#handOut();
        this.#prefetchIfLow();
        return handOver<T>(item);
      }
      if (this.#prefetching) {
        await this.#prefetching;
        continue;
      }
      this.#take(
        await this.#ref.call("get", [timeout, this.#window], {
          signal,
          // Fetched after the caller gave up: give them back, in order.
          onOrphan: (v) => this.#ref.send("nack", [leasesOf(v as Leased)]),
        }) as Leased,
      );
    }
  }

  #take(reply: Leased): void {
    const items = unpack(reply);
    const now = performance.now();
    this.#window = this.#nextWindow(items.length, now);
    this.#tookAt = now;
    this.#handedAtTake = this.#handed;
    if (this.#head === this.#buffer.length) {
      this.#buffer = items;
      this.#leases = leasesOf(reply);
      this.#head = 0;
      return;
    }
    // What was handed out goes, so that a buffer refilled before it empties stays small.
    if (this.#head > 0) {
      this.#buffer = this.#buffer.slice(this.#head);
      this.#leases = this.#leases.slice(this.#head);
      this.#head = 0;
    }
    for (let k = 0; k < items.length; k++) {
      this.#buffer.push(items[k]);
      this.#leases.push(reply.s + k);
    }
  }

  /**
   * The window after a reply of `n` items: doubled after a full reply up to
   * {@link MAX_WINDOW}; past it, what this consumer hands out in
   * {@link FAST_MS} at the rate it did since the last batch (and at most
   * doubled, after a full reply), within MAX_WINDOW and {@link FAST_WINDOW}.
   */
  #nextWindow(n: number, now: number): number {
    const full = n === this.#window;
    if (this.#window < MAX_WINDOW) {
      return full ? Math.min(this.#window * 2, MAX_WINDOW) : this.#window;
    }
    const rate = (this.#handed - this.#handedAtTake) / Math.max(now - this.#tookAt, 0.01);
    const cap = Math.min(FAST_WINDOW, full ? this.#window * 2 : this.#window);
    return Math.max(MAX_WINDOW, Math.min(cap, Math.floor(rate * FAST_MS)));
  }

  /**
   * A streaming consumer asks for the next batch while it works through
   * this one, so it never waits a round trip. The request does not wait on
   * the host: an empty queue answers at once, and items that arrive later
   * go to whichever consumer asks first.
   */
  #prefetchIfLow(): void {
    if (this.#prefetching || this.#window < 4 || this.buffered > this.#window / 2) return;
    this.#prefetching = (this.#ref.call("get", [0, this.#window]) as Promise<Leased>).then(
      (items) => this.#take(items),
      () => {}, // Empty or closed: the next blocking get says so.
    ).finally(() => (this.#prefetching = undefined));
  }

  /**
   * Hands out a fetched item. Its lease is acknowledged with this turn's
   * other deferred calls: if this process is killed, items it had fetched
   * but not handed out go back to the queue, and (but in the turn of its
   * death) no item handed out here is given again.
   */
  #handOut(): unknown {
    const k = this.#head++;
    this.#ref.deferRun("ackRuns", this.#leases[k]);
    this.#handed++;
    const item = this.#buffer[k];
    if (this.#head < this.#buffer.length) this.#armIdle();
    else {
      this.#buffer = [];
      this.#leases = [];
      this.#head = 0;
    }
    return item;
  }

  /**
   * Items fetched ahead belong to a consumer that keeps asking. One that
   * stops (a pool task that got its three items and returned, a child now
   * waiting on something else) gives them back after {@link HOLD_MS}, so
   * that no other consumer waits on items nobody will take (Python's
   * queues fetch nothing ahead).
   */
  #armIdle(): void {
    if (this.#idle !== undefined) return;
    this.#handedAtArm = this.#handed;
    this.#idle = setTimeout(() => this.#onIdle(), HOLD_MS);
    Deno.unrefTimer(this.#idle);
  }

  #onIdle(): void {
    this.#idle = undefined;
    if (this.buffered === 0) return;
    if (this.#handed !== this.#handedAtArm || this.#prefetching) return this.#armIdle();
    this.giveBack();
  }

  /** Gives back what was fetched ahead: the host puts it back at the front, in order. */
  giveBack(): void {
    clearTimeout(this.#idle);
    this.#idle = undefined;
    const leases = this.#leases.slice(this.#head);
    this.#buffer = [];
    this.#leases = [];
    this.#head = 0;
    this.#window = 1;
    if (leases.length > 0) this.#ref.send("nack", [leases]);
  }
}
