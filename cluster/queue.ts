/**
 * `ClusterQueue`: the `Queue` API over a NATS JetStream stream, shared by
 * every host that opens the queue by name (`ClusterJoinableQueue`, which
 * extends it, is in `joinable_queue.ts`).
 *
 * @module
 */

import type { GetOptions, PutOptions } from "../queue.ts";
import {
  blockingWait,
  QueueClosedError,
  QueueEmptyError,
  QueueFullError,
  untilClosed,
  valueNow,
} from "../_internal/cluster/core.ts";
import type { Engine } from "../_internal/cluster/engine.ts";
import { ack, type Delivery } from "../_internal/cluster/puller.ts";
import { QueueEngine } from "../_internal/cluster/queue_engine.ts";

/** Options of `Cluster.queue()`. */
export interface ClusterQueueOptions {
  /**
   * Most items the queue holds (0: no limit); set by whoever creates the
   * queue first. @default {0}
   */
  maxsize?: number;
}

/** Longest single wait on the broker, ms: a blocked `get` asks again after it. */
const LONG_POLL = 5_000;

/** The wait's timeout: 0 for a non-blocking call, null for ever. */
function waitFor(o: { block?: boolean; timeout?: number }): number | null {
  return o.block === false ? 0 : o.timeout ?? null;
}

/** Rejects with the signal's reason once it aborts. */
export function aborted(signal?: AbortSignal): void {
  if (signal?.aborted) throw signal.reason;
}

/**
 * A FIFO queue shared by every host of a cluster: the local `Queue`'s API.
 * Items are signed with the cluster's authkey; an item that fails the check
 * is refused (dead-lettered), never returned. `get()` acknowledges an item
 * as it takes it.
 *
 * @typeParam T The items' type; items cross by structured clone.
 *
 * @example Producer and consumer on two hosts
 * ```ts ignore
 * import { Cluster } from "@mp/multiprocessing/cluster";
 *
 * const authkey = Deno.env.get("MP_AUTHKEY")!;
 * const servers = Deno.env.get("NATS_URL") ?? "nats://127.0.0.1:4222";
 * await using cluster = await Cluster.connect({ servers, name: "jobs", authkey });
 * await using results = cluster.queue<number>("results");
 * await results.put(42); // on one host
 * // On another (here the same one):
 * console.log(await results.get()); // 42
 * ```
 */
export class ClusterQueue<T = unknown> implements AsyncIterable<T>, AsyncDisposable {
  #q: QueueEngine;
  #ready: Promise<void>;
  #getting: Promise<unknown> = Promise.resolve();

  /**
   * @internal Made by `Cluster.queue()`.
   * @param engine The cluster's connection.
   * @param name The queue's name: letters, digits, `_`, `-`.
   * @param options `maxsize`, for the host that creates it.
   * @throws {TypeError} On a bad name.
   * @throws {RangeError} On a bad `maxsize`.
   */
  constructor(engine: unknown, name: string, options: ClusterQueueOptions = {}) {
    const maxsize = options.maxsize ?? 0;
    if (!Number.isInteger(maxsize) || maxsize < 0) {
      throw new RangeError(
        `Cannot create queue: 'maxsize' must be a non-negative integer, received ${maxsize}`,
      );
    }
    this.#q = new QueueEngine(engine as Engine, name);
    this.#ready = this.#q.open(maxsize);
    this.#ready.catch(() => {}); // Reported by the first method that waits on it.
  }

  /** The queue's name. */
  get name(): string {
    return this.#q.name;
  }

  /** The `maxsize` the queue has on the server (0: unbounded), once a method has resolved. */
  get maxsize(): number {
    return this.#q.maxsize;
  }

  /** Items this handle refused (not signed with the cluster's authkey). */
  get refused(): number {
    return this.#q.refused;
  }

  /**
   * Puts an item, waiting for room in a full queue unless told not to.
   *
   * @param item The item; it must be structured-cloneable.
   * @param block `false` not to wait for room, or the timeout in ms, or the
   * options (`block`, `timeout`, `signal`), as the local `Queue.put`.
   * @param timeoutMs With a boolean `block`: the timeout in ms, or the options.
   * @returns Resolves once the item is in the queue.
   * @throws {QueueFullError} When full and not waiting, or after `timeout`.
   * @throws {QueueClosedError} When the queue is closed (it carries `item`).
   * @throws {DOMException} `DataCloneError` when the item cannot be cloned.
   * @throws The signal's reason once it aborts the wait.
   */
  async put(
    item: T,
    block?: boolean | number | PutOptions,
    timeoutMs?: number | PutOptions,
  ): Promise<void> {
    const options = blockingWait("put to queue", block, timeoutMs);
    const timeout = waitFor(options);
    // Taken now, as the core queue's put: it is sealed after an await.
    const taken = valueNow(item);
    await this.#ready;
    const sealed = await this.#q.seal(taken);
    const id = this.#q.newMsgId();
    const deadline = timeout === null ? Infinity : Date.now() + timeout;
    for (let i = 0;; i++) {
      aborted(options.signal);
      if (await this.#q.put(sealed, id, item) === "put") return;
      if (Date.now() >= deadline) throw new QueueFullError();
      await new Promise((r) => setTimeout(r, Math.min(250, 10 * 2 ** i, deadline - Date.now())));
    }
  }

  /**
   * Removes and returns the oldest item, waiting for one unless told not to.
   *
   * @param block `false` not to wait for an item, or the timeout in ms, or
   * the options (`block`, `timeout`, `signal`), as the local `Queue.get`.
   * @param timeout With a boolean `block`: the timeout in ms, or the options.
   * @returns The item.
   * @throws {QueueEmptyError} When empty and not waiting, or after `timeout`.
   * @throws {QueueClosedError} When the queue is closed and empty.
   * @throws The signal's reason once it aborts the wait.
   */
  get(block?: boolean | number | GetOptions, timeout?: number | GetOptions): Promise<T> {
    let options: GetOptions;
    try {
      options = blockingWait("get from queue", block, timeout);
    } catch (err) {
      return Promise.reject(err);
    }
    // One pull at a time per handle: gets wait their turn.
    const mine = this.#getting.then(() => this.#get(options));
    this.#getting = mine.catch(() => {});
    return mine;
  }

  async #get(options: GetOptions): Promise<T> {
    const timeout = waitFor(options);
    await this.#ready;
    const deadline = timeout === null ? Infinity : Date.now() + timeout;
    while (true) {
      aborted(options.signal);
      const closed = this.#q.closed;
      const left = deadline - Date.now();
      const wait = closed || left <= 0 ? 0 : Math.min(LONG_POLL, left);
      const d = await this.#take(wait, options.signal);
      if (d) {
        const opened = await this.#q.verify(d);
        if (opened) return this.taken(d, opened.item) as T;
        continue;
      }
      aborted(options.signal);
      if (closed) throw new QueueClosedError("Cannot get from queue: it is closed and empty");
      if (Date.now() >= deadline) throw new QueueEmptyError();
    }
  }

  /** A pull, cut short when the queue closes (then drained without waiting). */
  async #take(wait: number, signal?: AbortSignal): Promise<Delivery | undefined> {
    if (wait === 0) return await this.#q.take(0);
    const wake = new AbortController();
    const stop = this.#q.whenClosed(() => wake.abort());
    try {
      return await this.#q.take(
        wait,
        signal ? AbortSignal.any([signal, wake.signal]) : wake.signal,
      );
    } finally {
      stop();
    }
  }

  /**
   * @internal What happens to an item as it is taken: acknowledged, here.
   * @param d The item's delivery.
   * @param item The item, verified and decoded.
   * @returns The item.
   */
  protected taken(d: Delivery, item: unknown): unknown {
    ack(this.#q.engine.nc, d);
    return item;
  }

  /** @internal The connection, for subclasses. */
  protected get engine(): Engine {
    return this.#q.engine;
  }

  /**
   * @internal Items in the stream: waiting, or taken and not yet acknowledged.
   * @returns Their number.
   */
  protected async stored(): Promise<number> {
    await this.#ready;
    return await this.#q.messages();
  }

  /**
   * `put(item, { block: false })`.
   *
   * @param item The item; it must be structured-cloneable.
   * @returns Resolves once the item is in the queue.
   * @throws {QueueFullError} When the queue is full.
   * @throws {QueueClosedError} When the queue is closed (it carries `item`).
   */
  putNowait(item: T): Promise<void> {
    return this.put(item, { block: false });
  }

  /**
   * `get({ block: false })`.
   *
   * @returns The oldest item.
   * @throws {QueueEmptyError} When no item is waiting.
   * @throws {QueueClosedError} When the queue is closed and empty.
   */
  getNowait(): Promise<T> {
    return this.get({ block: false });
  }

  /**
   * The number of items waiting.
   *
   * @returns The number (approximate while others use it, as in Python).
   */
  async qsize(): Promise<number> {
    await this.#ready;
    return await this.#q.pending();
  }

  /**
   * Whether no item is waiting.
   *
   * @returns True when no item is waiting.
   */
  async empty(): Promise<boolean> {
    return (await this.qsize()) === 0;
  }

  /**
   * Whether a bounded queue is full (items taken and not yet acknowledged count).
   *
   * @returns True when the queue has a `maxsize` and holds that many items.
   */
  async full(): Promise<boolean> {
    await this.#ready;
    return this.#q.maxsize > 0 && (await this.#q.messages()) >= this.#q.maxsize;
  }

  /**
   * Closes the queue for every host: puts reject with
   * {@link QueueClosedError} everywhere, gets drain the remaining items then
   * reject, and `for await` loops end. Idempotent.
   */
  async close(): Promise<void> {
    await this.#ready;
    await this.#q.close();
  }

  /** Yields items until the queue is closed and drained. */
  [Symbol.asyncIterator](): AsyncIterator<T> {
    return untilClosed(() => this.get());
  }

  /** Lets go of this handle (the queue itself stays, for the other hosts). */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.#ready.catch(() => {});
    await this.#getting;
    await this.#q.dispose();
  }
}
