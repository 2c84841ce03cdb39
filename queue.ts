/**
 * `Queue`, `JoinableQueue` and `SimpleQueue`: Python's process queues.
 *
 * A queue is hosted by the process that created it; the queue object is a
 * handle to it, and it can be passed as an argument to a child of either
 * start method (and on to grandchildren, or to a pool task): it stays one
 * queue, multi-producer and multi-consumer, FIFO per producer.
 *
 * Differences from Python, in JavaScript's idiom: every method that may
 * cross a process is async; timeouts are milliseconds; `close()` closes the
 * queue for every process (puts reject with {@link QueueClosedError}, gets
 * drain what is left and then reject), which is what ends `for await`.
 *
 * @example A producer child and a consumer parent
 * ```ts
 * import { Process, Queue } from "@mp/multiprocessing";
 * import { produce } from "@mp/multiprocessing/targets";
 * import { assertEquals } from "@std/assert";
 *
 * const module = import.meta.resolve("@mp/multiprocessing/targets");
 *
 * await using q = new Queue<number>();
 * await using p = new Process({ target: produce, args: [q, 3], module });
 * await p.start();
 * const got = [await q.get(), await q.get(), await q.get()];
 * await p.join();
 * assertEquals(got, [0, 1, 2]);
 * ```
 *
 * @module
 */

import { QueueClosedError } from "./_internal/base/errors.ts";
import { type Descriptor, type PackContext, registerReviver } from "./_internal/hub/handles.ts";
import { TO_DESCRIPTOR } from "./_internal/base/symbols.ts";
import { LocalRef, refFor } from "./_internal/hub/refs.ts";
import type { ObjectRef } from "./_internal/hub/protocol.ts";
import { EMPTY, QueueCore } from "./_internal/primitives/queue_core.ts";
import { QueueProducer } from "./_internal/primitives/queue_producer.ts";
import { handOver, QueueConsumer } from "./_internal/primitives/queue_consumer.ts";
import {
  BLOCKING,
  blockingWait,
  timedWait,
  type Wait,
  type WaitOptions,
} from "./_internal/base/waits.ts";
import { onAbort, raceTimer, untilClosed } from "./_internal/base/async.ts";
import { checkOptionNames, optionNames } from "./_internal/base/options.ts";
import { type CloneMode, cloneMode } from "./_internal/wire/plain.ts";

export { QueueClosedError, QueueEmptyError, QueueFullError } from "./_internal/base/errors.ts";

/** Options of `new Queue()`. */
export interface QueueOptions {
  /**
   * Most items it holds; `0` for no limit.
   * @default {0}
   */
  maxsize?: number;
  /**
   * How items are copied: `"strict"` refuses an item holding an object of a
   * class of your own (it would arrive as a plain object, without its
   * methods) with a `DataCloneError` naming the class and where it is;
   * `"plain"` copies such objects as plain data.
   * @default {"strict"}
   */
  clone?: CloneMode;
}

/** Options of {@link Queue.put}. */
export interface PutOptions {
  /**
   * Wait for room in a full queue; `false` rejects at once with
   * {@link QueueFullError}.
   * @default {true}
   */
  block?: boolean;
  /** Milliseconds to wait for room before rejecting with {@link QueueFullError}. */
  timeout?: number;
  /** Aborts the wait: rejects with the signal's reason. */
  signal?: AbortSignal;
  /** How this item is copied (see {@link QueueOptions.clone}). @default {the queue's} */
  clone?: CloneMode;
}

/** Options of {@link Queue.get}. */
export interface GetOptions {
  /**
   * Wait for an item in an empty queue; `false` rejects at once with
   * {@link QueueEmptyError}.
   * @default {true}
   */
  block?: boolean;
  /** Milliseconds to wait for an item before rejecting with {@link QueueEmptyError}. */
  timeout?: number;
  /** Aborts the wait: rejects with the signal's reason; no item is lost. */
  signal?: AbortSignal;
}

type Flavor = "queue" | "joinable" | "simple";

const QUEUE_OPTIONS = optionNames("maxsize", "clone");
const PUT_OPTIONS = optionNames(...BLOCKING, "clone");

/** The host's timeout argument: 0 for a non-blocking call, null for ever. */
function waitFor(w: Wait): number | null {
  return w.block === false ? 0 : w.timeout ?? null;
}

// Set once by Queue's static block: JoinableQueue reaches the reference.
let refOf: (q: Queue) => ObjectRef;

/**
 * A multi-producer, multi-consumer FIFO shared between processes, as
 * Python's `multiprocessing.Queue`.
 *
 * @typeParam T The items' type; items cross by structured clone.
 *
 * @example Bounded queue semantics
 * ```ts
 * import { Queue, QueueFullError } from "@mp/multiprocessing/queue";
 * import { assertEquals, assertRejects } from "@std/assert";
 *
 * await using q = new Queue<string>(1);
 * await q.put("a");
 * assertEquals(await q.full(), true);
 * await assertRejects(() => q.put("b", { timeout: 10 }), QueueFullError);
 * assertEquals(await q.get(), "a");
 * ```
 */
export class Queue<T = unknown> implements AsyncIterable<T> {
  #ref: ObjectRef;
  #local: LocalRef | undefined;
  // The queue itself, in the handle that created it: gets and puts that
  // need not wait skip the call.
  #core: QueueCore | undefined;
  #maxsize: number;
  #clone: CloneMode = "strict";
  #flavor: Flavor;
  #closedSeen = false;
  #listening = false;
  #producer!: QueueProducer;
  // Away from the host: items fetched ahead, leased until handed out.
  #consumer: QueueConsumer<T> | undefined;

  /**
   * Creates a queue hosted by this process.
   *
   * @param maxsize Most items it holds; `0` (default) for no limit. Or the
   * options.
   * @param options The options (`clone`).
   * @throws {RangeError} When `maxsize` is not a non-negative integer.
   * @throws {TypeError} On an unknown option, or a `clone` that is not one.
   */
  constructor(maxsize: number | QueueOptions = 0, options: QueueOptions = {}) {
    const from = (maxsize as unknown as { [REVIVE]?: Descriptor })?.[REVIVE];
    if (typeof maxsize === "object" && !from) [maxsize, options] = [maxsize.maxsize ?? 0, maxsize];
    if (!from) {
      checkOptionNames("create queue", options, QUEUE_OPTIONS);
      this.#clone = cloneMode("create queue", options.clone);
    }
    if (!from && (!Number.isInteger(maxsize) || (maxsize as number) < 0)) {
      throw new RangeError(
        `Cannot create queue: 'maxsize' must be a non-negative integer, received ${maxsize}`,
      );
    }
    this.#flavor = new.target === JoinableQueue
      ? "joinable"
      : new.target === SimpleQueue
      ? "simple"
      : "queue";
    if (from) {
      this.#maxsize = from.extra?.maxsize as number;
      if (from.extra?.clone === "plain") this.#clone = "plain";
      this.#ref = refFor(from.address, from.id);
      if (this.#ref.local) this.#local = this.#ref as LocalRef;
      else this.#consumer = new QueueConsumer(this.#ref);
    } else {
      this.#maxsize = maxsize as number;
      const core = new QueueCore(this.#maxsize);
      this.#local = new LocalRef(core);
      this.#ref = this.#local;
      core.id = this.#ref.id;
      this.#core = core;
    }
    this.#producer = new QueueProducer(this.#ref, this.#maxsize, this.#core);
  }

  /**
   * Describes this handle for another process.
   *
   * @ignore
   */
  async [TO_DESCRIPTOR](ctx?: PackContext): Promise<Descriptor> {
    return {
      kind: "queue",
      address: await this.#ref.address(ctx),
      id: this.#ref.id,
      extra: {
        maxsize: this.#maxsize,
        flavor: this.#flavor,
        ...(this.#clone === "plain" ? { clone: "plain" } : {}),
      },
    };
  }

  /** The `maxsize` the queue was created with (0: unbounded). */
  get maxsize(): number {
    return this.#maxsize;
  }

  #listen(): void {
    if (this.#listening || this.#local) return;
    this.#listening = true;
    this.#ref.onPush((event) => {
      if (event === "closed") this.#closedSeen = true;
    });
  }

  /**
   * Puts an item, waiting for room in a full bounded queue unless told not
   * to. The item is copied as it is put (as Python pickles it): a change to
   * it afterwards does not reach the queue; handles inside it (queues,
   * locks, pipe ends, proxies) arrive as working handles.
   *
   * On an unbounded queue a remote producer does not wait for the host:
   * items are sent in batches (call {@link Queue.joinThread} to wait until
   * they are delivered; a child does so before it exits), up to about 1 MiB
   * not yet written to the host; past that, a put waits until it is
   * written (a timed put still waiting at its deadline rejects with
   * {@link QueueFullError}; `putNowait` never does). In the process that
   * hosts the queue, a loop of puts lets the event loop run every 1,000
   * puts or 5 ms, so that the queue's consumers are served meanwhile.
   *
   * @param item The item; it must be structured-cloneable.
   * @param block `false` to reject at once when full (Python's `block`), or
   * the timeout in ms, or the options (`block`, `timeout`, `signal`).
   * @param timeout With a boolean `block`: the timeout in ms, or the options.
   * @returns Resolves once the item is in the queue (or, on an unbounded
   * queue from a child, accepted to be sent).
   * @throws {QueueFullError} When full and not waiting, or after `timeout`.
   * @throws {QueueClosedError} When the queue is closed (it carries `item`).
   * @throws {DOMException} `DataCloneError` when the item cannot be cloned.
   * @throws {TypeError} On an unknown option.
   * @throws {RangeError} On a negative timeout.
   * @throws The signal's reason once it aborts the wait.
   */
  put(
    item: T,
    block?: boolean | number | PutOptions,
    timeout?: number | PutOptions,
  ): Promise<void> {
    try {
      const options: PutOptions = blockingWait("put to queue", block, timeout, PUT_OPTIONS);
      if (this.#closedSeen) throw new QueueClosedError("Cannot put to queue: it is closed", item);
      const strict = (options.clone ?? this.#clone) === "strict";
      this.#listen();
      return this.#producer.put(item, waitFor(options), strict, options.signal);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /**
   * Removes and returns the oldest item, waiting for one unless told not to.
   *
   * @param block `false` to reject at once when empty (Python's `block`:
   * `get(false)` is `getNowait()`), or the timeout in ms, or the options
   * (`block`, `timeout`, `signal`).
   * @param timeout With a boolean `block`: the timeout in ms, or the options.
   * @returns The item.
   * @throws {QueueEmptyError} When empty and not waiting, or after `timeout`.
   * @throws {QueueClosedError} When the queue is closed and empty.
   * @throws {TypeError} On an unknown option.
   * @throws {RangeError} On a negative timeout.
   * @throws The signal's reason once it aborts the wait (no item is lost).
   */
  get(block?: boolean | number | GetOptions, timeout?: number | GetOptions): Promise<T> {
    try {
      const options = blockingWait("get from queue", block, timeout);
      const timeoutMs = waitFor(options);
      if (this.#consumer) {
        this.#listen();
        // Not async: an item fetched ahead comes without further promise hops.
        return this.#consumer.get(timeoutMs, options.signal);
      }
      if (this.#core && !options.signal) {
        const item = this.#core.takeNow();
        if (item !== EMPTY) return Promise.resolve(handOver<T>(item));
      }
      const got = this.#ref.call("get", [timeoutMs, 1], options) as Promise<unknown[]>;
      return got.then((items) => handOver<T>(items[0]));
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /**
   * `put(item, { block: false })`.
   *
   * @param item The item; it must be structured-cloneable.
   * @returns Resolves once the item is in the queue (or, on an unbounded
   * queue from a child, accepted to be sent).
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
   * @throws {QueueEmptyError} When the queue is empty.
   * @throws {QueueClosedError} When the queue is closed and empty.
   */
  getNowait(): Promise<T> {
    return this.get({ block: false });
  }

  /**
   * The number of items in the queue.
   *
   * @returns The number (approximate while others use it, as in Python).
   */
  async qsize(): Promise<number> {
    return await this.#ref.call("qsize", []) as number + (this.#consumer?.buffered ?? 0);
  }

  /**
   * Whether the queue is empty.
   *
   * @returns True when it holds no item.
   */
  async empty(): Promise<boolean> {
    return (await this.qsize()) === 0;
  }

  /**
   * Whether a bounded queue is full.
   *
   * @returns True when the queue has a `maxsize` and holds that many items.
   */
  async full(): Promise<boolean> {
    return await this.#ref.call("full", []) as boolean;
  }

  /**
   * Closes the queue for every process: puts reject with
   * {@link QueueClosedError}, gets drain the remaining items then reject,
   * and `for await` loops end. Idempotent.
   */
  close(): void {
    this.#closedSeen = true;
    this.#ref.send("close", []);
  }

  /**
   * Resolves once this process's buffered puts (and acknowledgements) have
   * reached the queue. A child flushes them before it exits in any case.
   */
  async joinThread(): Promise<void> {
    if (!this.#local) await this.#ref.call("sync", []);
  }

  /**
   * Python's `cancel_join_thread`: this process will not wait, when it
   * exits, for its buffered puts to the queue's host to be written (they
   * may be lost), for every queue of that host.
   */
  cancelJoinThread(): void {
    this.#ref.noWaitAtExit();
  }

  /** Yields items until the queue is closed and drained. */
  [Symbol.asyncIterator](): AsyncIterator<T> {
    return untilClosed(() => this.get());
  }

  /**
   * In the creating process: closes the queue and stops hosting it. Elsewhere:
   * waits for buffered puts ({@link Queue.joinThread}).
   */
  async [Symbol.asyncDispose](): Promise<void> {
    if (this.#local) {
      this.#local.call("close", []);
      this.#local.release();
    } else {
      this.#consumer?.giveBack();
      await this.joinThread().catch(() => {});
    }
  }

  static {
    // Subclasses here reach the reference; nothing outside the module does.
    refOf = (q) => q.#ref;
  }
}

const REVIVE = Symbol("revive");

/**
 * A {@link Queue} that counts unfinished items: consumers call
 * {@link JoinableQueue.taskDone} for each item they got, and
 * {@link JoinableQueue.join} waits until every item put has been done.
 *
 * @example Mark each task done, then join
 * ```ts
 * import { JoinableQueue } from "@mp/multiprocessing/queue";
 * import { assertRejects } from "@std/assert";
 *
 * await using q = new JoinableQueue<number>();
 * await q.put(1);
 * await q.get();
 * await q.taskDone();
 * await q.join();
 * await assertRejects(() => q.taskDone(), RangeError);
 * ```
 */
export class JoinableQueue<T = unknown> extends Queue<T> {
  /**
   * Marks one item got from the queue as processed.
   *
   * @throws {RangeError} When called more times than items were put.
   */
  async taskDone(): Promise<void> {
    await refOf(this).call("taskDone", []);
  }

  /**
   * Waits until every item put has been marked done.
   *
   * @param options Milliseconds to wait at most (for ever when absent), or
   * `{ timeout, signal }`.
   * @returns Resolves once every item put has been marked done.
   * @throws {DOMException} `TimeoutError` after `timeout`.
   * @throws The signal's reason once it aborts the wait.
   * @throws {RangeError} On a negative timeout.
   */
  async join(options?: number | WaitOptions): Promise<void> {
    const { timeout, signal } = timedWait("join queue", options);
    // One signal for the call, aborted by the caller's or by the timeout:
    // a join given up on is withdrawn from the host.
    const ctl = new AbortController();
    const off = onAbort(signal, (reason) => ctl.abort(reason));
    try {
      const done = refOf(this).call("join", [], { signal: ctl.signal }) as Promise<unknown>;
      await raceTimer(done, timeout, () => {
        const late = new DOMException(
          `Cannot join queue: not every item was done within ${timeout} ms`,
          "TimeoutError",
        );
        ctl.abort(late);
        throw late;
      });
    } finally {
      off();
    }
  }
}

/**
 * Python's `SimpleQueue`: an unbounded queue with `put`, `get`, `empty` and
 * `close`.
 *
 * @example A queue without size or timeouts
 * ```ts
 * import { SimpleQueue } from "@mp/multiprocessing/queue";
 * import { assertEquals } from "@std/assert";
 *
 * await using q = new SimpleQueue<string>();
 * await q.put("x");
 * assertEquals(await q.get(), "x");
 * assertEquals(await q.empty(), true);
 * ```
 */
export class SimpleQueue<T = unknown> extends Queue<T> {
  /**
   * Creates an unbounded simple queue.
   *
   * @param options The options (`clone`; a simple queue has no `maxsize`).
   * @throws {TypeError} On an unknown option.
   */
  constructor(options?: Omit<QueueOptions, "maxsize">) {
    // A revived handle's token comes in the same place: Queue spots it.
    super(options ?? 0);
  }
}

registerReviver("queue", (d) => {
  const Cls = d.extra?.flavor === "joinable"
    ? JoinableQueue
    : d.extra?.flavor === "simple"
    ? SimpleQueue
    : Queue;
  // The revive token stands where maxsize would: the constructor spots it.
  return new Cls({ [REVIVE]: d } as unknown as number);
});
