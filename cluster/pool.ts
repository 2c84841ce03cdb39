/**
 * `ClusterPool`: the `Pool` API over NATS JetStream, made by
 * `Cluster.pool()`. Tasks go to the cluster's work-queue stream; worker
 * agents on any number of hosts run them on their local pools.
 *
 * @module
 */

import type { Attempt } from "../_internal/cluster/protocol.ts";
import {
  type CallSite,
  callSite,
  checkOptionNames,
  failedIterator,
  hasHandles,
  imapChunks,
  lengthOf,
  optionNames,
  ProcessError,
  type Progress,
  progressOf,
  valueNow,
  withCallSite,
} from "../_internal/cluster/core.ts";
import type { MapItem, PoolCallOptions, PoolLike, PoolMapOptions, TaskFunction } from "../pool.ts";
import type { Engine } from "../_internal/cluster/engine.ts";
import type { AgentsView } from "../_internal/cluster/agents_view.ts";
import type { FnRef } from "../_internal/cluster/protocol.ts";
import { type RefCache, refOf } from "../_internal/cluster/fn_ref.ts";
import type { Submitter, TaskHandle } from "../_internal/cluster/submitter.ts";
import { randomId } from "../_internal/cluster/names.ts";
import { Batcher, type Task } from "../_internal/cluster/batcher.ts";
import { ClusterAsyncResult } from "./async_result.ts";
import { POOL_OPTIONS } from "../pool/options.ts";

/** Options of `Cluster.pool()`. */
export interface ClusterPoolOptions {
  /** URL of the module exporting the task functions. @default {the main module} */
  module?: string | URL;
}

/** A map's items as calls of one argument, read when the map starts. */
function items(iterable: Iterable<unknown>): () => unknown[][] {
  return () => Array.from(iterable, (x) => [x]);
}

/** A starmap's argument lists, read when the map starts. */
function calls(iterable: Iterable<unknown>): () => unknown[][] {
  return () => [...iterable] as unknown[][];
}

/** The names of the options of a cluster pool; the local pool's others are the agents'. */
const CLUSTER_POOL_OPTIONS = optionNames("module");

/** What a cluster pool is made of (given by `Cluster.pool()`). */
interface Parts {
  engine: Engine;
  submitter: Submitter;
  agents: AgentsView;
  options: ClusterPoolOptions;
}

/**
 * A pool whose workers are the cluster's worker agents, on any host: the
 * local `Pool`'s API ({@link PoolLike}), at-least-once delivery with
 * visible retries.
 *
 * @example A map across hosts
 * ```ts ignore
 * import { Cluster } from "@mp/multiprocessing/cluster";
 * import { square } from "./tasks.ts";
 *
 * const authkey = Deno.env.get("MP_AUTHKEY")!;
 * const servers = Deno.env.get("NATS_URL") ?? "nats://127.0.0.1:4222";
 * await using cluster = await Cluster.connect({ servers, name: "jobs", authkey });
 * await using pool = cluster.pool({ module: new URL("./tasks.ts", import.meta.url) });
 * console.log(await pool.map(square, [1, 2, 3])); // [ 1, 4, 9 ]
 * ```
 */
export class ClusterPool implements PoolLike {
  #parts: Parts;
  #state: "run" | "close" | "terminate" = "run";
  #pending = new Set<Task>();
  #batcher: Batcher;
  #subject: string;
  #refs: RefCache = new WeakMap();
  #idle: (() => void)[] = [];

  /**
   * @internal Made by `Cluster.pool()`.
   * @param parts The cluster's connection, submitter and view of the agents,
   * and the pool's options.
   * @throws {TypeError} On an option that only a local pool has.
   */
  constructor(parts: unknown) {
    this.#parts = parts as Parts;
    for (const key of Object.keys(this.#parts.options)) {
      if (POOL_OPTIONS.has(key) && !CLUSTER_POOL_OPTIONS.has(key)) {
        throw new TypeError(
          `Cannot create cluster pool: '${key}' is an option of a local Pool; ` +
            `the worker agents decide it (cluster.serve() options, or the worker command's flags)`,
        );
      }
    }
    checkOptionNames("create cluster pool", this.#parts.options, CLUSTER_POOL_OPTIONS);
    const { engine, submitter, agents } = this.#parts;
    this.#subject = engine.names.tasksSubject(`${submitter.id}-${randomId(6)}`);
    this.#batcher = new Batcher(submitter, this.#subject, () => agents.totals().slots);
  }

  #ref(fn: unknown, module?: string | URL): FnRef {
    return refOf(fn, module ?? this.#parts.options.module, this.#parts.engine.root, this.#refs);
  }

  /** Submits tasks (one per entry of `chunks`); their promises, and every attempt. */
  #submit(fn: unknown, given: unknown[][][], options: PoolCallOptions<never>) {
    const attempts: Attempt[] = [];
    if (this.#state !== "run") {
      const what = this.#state === "close" ? "closed" : "terminated";
      return {
        all: Promise.reject(new ProcessError(`Cannot submit task: the pool is ${what}`)),
        attempts,
      };
    }
    const { signal } = options;
    if (signal?.aborted) return { all: Promise.reject(signal.reason), attempts };
    let ref: FnRef;
    let chunks: unknown[][][];
    try {
      ref = this.#ref(fn, options.module);
      if (hasHandles(given)) {
        throw new TypeError(
          "Cannot submit cluster task: its arguments hold a handle of this machine " +
            "(a queue, lock, pipe, shared value or manager proxy); " +
            "use a cluster queue (cluster.queue(name)) to share data across hosts",
        );
      }
      // Taken now: they are published later, in a batch, and the caller
      // may go on changing what it passed.
      chunks = valueNow(given);
    } catch (err) {
      return { all: Promise.reject(err), attempts };
    }
    const tasks = chunks.map((calls) => this.#task(ref, calls, attempts));
    if (signal) {
      const onAbort = () => this.#abort(tasks, signal.reason);
      signal.addEventListener("abort", onAbort, { once: true });
      const done = Promise.allSettled(tasks.map((t) => t.promise));
      done.then(() => signal.removeEventListener("abort", onAbort));
    }
    return { all: Promise.all(tasks.map((t) => t.promise)), attempts, tasks };
  }

  #task(ref: FnRef, calls: unknown[][], attempts: Attempt[]): Task {
    const { promise, resolve, reject } = Promise.withResolvers<unknown[]>();
    promise.catch(() => {}); // Handled by whoever awaits the call; never unhandled here.
    const task: Task = {
      ref,
      calls,
      promise,
      settled: false,
      settle: (result, tried) => {
        if (task.settled) return;
        task.settled = true;
        attempts.push(...tried);
        this.#pending.delete(task);
        if ("ok" in result) resolve(result.ok);
        else reject(result.error);
        if (this.#pending.size === 0) { for (const wake of this.#idle.splice(0)) wake(); }
      },
    };
    this.#pending.add(task);
    this.#batcher.add(task);
    return task;
  }

  #abort(tasks: Task[], reason: unknown): void {
    const open = tasks.filter((t) => !t.settled);
    for (const t of open) t.settle({ error: reason }, []);
    this.#batcher.dropped(open as TaskHandle[]);
  }

  /** The call's result: its error gets the call site after its stack, then the callbacks hear of it. */
  #result<T>(
    p: Promise<T>,
    attempts: Attempt[],
    options: PoolCallOptions<T>,
    site: CallSite,
  ): ClusterAsyncResult<T> {
    const q = p.then(undefined, (e) => {
      throw withCallSite(e, site, options.signal?.reason);
    });
    q.then((v) => options.callback?.(v), (e) => options.errorCallback?.(e));
    return new ClusterAsyncResult(q, attempts);
  }

  /**
   * Runs `fn(...args)` on an agent; its result as a {@link ClusterAsyncResult}.
   *
   * @param fn An exported function (of the pool's `module`, or of this call's).
   * @param args Its arguments (typed from its parameters), taken at the call.
   * @param options Callbacks, `signal`, `module`.
   * @returns The result to come, with the task's attempts; its error, if
   * any, carries the call site after the remote stack (`Submitted at:`).
   */
  applyAsync<F extends TaskFunction>(
    fn: F,
    args?: Readonly<Parameters<F>>,
    options: PoolCallOptions<Awaited<ReturnType<F>>> = {},
  ): ClusterAsyncResult<Awaited<ReturnType<F>>> {
    return this.#apply(fn, args, options, callSite(this.applyAsync));
  }

  #apply<F extends TaskFunction>(
    fn: F,
    args: Readonly<Parameters<F>> | undefined,
    options: PoolCallOptions<Awaited<ReturnType<F>>>,
    site: CallSite,
  ): ClusterAsyncResult<Awaited<ReturnType<F>>> {
    type R = Awaited<ReturnType<F>>;
    const calls = [[(args ?? []) as unknown[]]];
    const { all, attempts } = this.#submit(fn, calls, options as PoolCallOptions<never>);
    return this.#result(all.then((v) => v[0][0] as R), attempts, options, site);
  }

  /**
   * Runs `fn(...args)` on an agent and resolves its result.
   *
   * @param fn An exported function (of the pool's `module`, or of this call's).
   * @param args Its arguments (typed from its parameters), taken at the call.
   * @param options Callbacks, `signal`, `module`.
   * @returns Its result.
   * @throws The task's error (the remote stack, then `Submitted at:` and
   * this call's stack); `TaskFailedError` when every attempt it was allowed
   * ended with its worker dead or its host gone; `ProcessError` once the
   * pool is terminated; `signal.reason` once aborted.
   */
  apply<F extends TaskFunction>(
    fn: F,
    args?: Readonly<Parameters<F>>,
    options: PoolCallOptions<Awaited<ReturnType<F>>> = {},
  ): Promise<Awaited<ReturnType<F>>> {
    return this.#apply(fn, args, options, callSite(this.apply)).get();
  }

  /** Python's chunk size: about four chunks per process of the agents alive. */
  #chunksize(n: number, chunksize: number | undefined): number {
    if (chunksize === undefined) {
      return Math.max(1, Math.ceil(n / (this.#parts.agents.totals().processes * 4)));
    }
    if (!Number.isInteger(chunksize) || chunksize < 1) {
      throw new RangeError(
        `Cannot map: 'chunksize' must be a positive integer, received ${chunksize}`,
      );
    }
    return chunksize;
  }

  #mapCalls<R>(
    fn: unknown,
    read: () => unknown[][],
    options: PoolMapOptions<R[]>,
    site: CallSite,
  ): ClusterAsyncResult<R[]> {
    let calls: unknown[][];
    let size: number;
    let progress: Progress | undefined;
    try {
      calls = read();
      size = this.#chunksize(calls.length, options.chunksize);
      progress = progressOf(options, calls.length, "map");
    } catch (err) {
      return this.#result(Promise.reject(err) as Promise<R[]>, [], options, site);
    }
    const chunks: unknown[][][] = [];
    for (let i = 0; i < calls.length; i += size) chunks.push(calls.slice(i, i + size));
    const { all, attempts, tasks } = this.#submit(fn, chunks, options as PoolCallOptions<never>);
    if (progress) {
      tasks?.forEach((t, i) => t.promise.then(() => progress.settled(chunks[i].length), () => {}));
      all.then(progress.end, progress.end);
    }
    return this.#result(all.then((parts) => parts.flat() as R[]), attempts, options, site);
  }

  /**
   * `map` that returns a {@link ClusterAsyncResult} of the list of results.
   *
   * @param fn An exported function of one argument.
   * @param iterable The items (copied at once, each as it is then).
   * @param options `chunksize` (default: about four chunks per process of the
   * agents alive), callbacks, `signal`, `module`, `onProgress`, `progress`.
   * @returns The results to come, in input order, with every task's attempts.
   */
  mapAsync<F extends TaskFunction>(
    fn: F,
    iterable: Iterable<MapItem<F>>,
    options: PoolMapOptions<Awaited<ReturnType<F>>[]> = {},
  ): ClusterAsyncResult<Awaited<ReturnType<F>>[]> {
    return this.#mapCalls(fn, items(iterable), options, callSite(this.mapAsync));
  }

  /**
   * Applies `fn` to every item, in chunks across the agents.
   *
   * @param fn An exported function of one argument.
   * @param iterable The items (copied at once, each as it is then).
   * @param options `chunksize` (default: about four chunks per process of the
   * agents alive), callbacks, `signal`, `module`, `onProgress`, `progress`.
   * @returns The results, in input order.
   * @throws As {@link ClusterPool.apply}, for the first task that fails.
   */
  map<F extends TaskFunction>(
    fn: F,
    iterable: Iterable<MapItem<F>>,
    options: PoolMapOptions<Awaited<ReturnType<F>>[]> = {},
  ): Promise<Awaited<ReturnType<F>>[]> {
    return this.#mapCalls(fn, items(iterable), options, callSite(this.map)).get();
  }

  /**
   * `starmap` that returns a {@link ClusterAsyncResult}.
   *
   * @param fn An exported function.
   * @param iterable Argument lists, one per call (typed from `fn`'s parameters).
   * @param options `chunksize` (default: about four chunks per process of the
   * agents alive), callbacks, `signal`, `module`, `onProgress`, `progress`.
   * @returns The results to come, in input order, with every task's attempts.
   */
  starmapAsync<F extends TaskFunction>(
    fn: F,
    iterable: Iterable<Readonly<Parameters<F>>>,
    options: PoolMapOptions<Awaited<ReturnType<F>>[]> = {},
  ): ClusterAsyncResult<Awaited<ReturnType<F>>[]> {
    return this.#mapCalls(fn, calls(iterable), options, callSite(this.starmapAsync));
  }

  /**
   * Like {@link ClusterPool.map}, with each item spread as the arguments.
   *
   * @param fn An exported function.
   * @param iterable Argument lists, one per call (typed from `fn`'s parameters).
   * @param options `chunksize` (default: about four chunks per process of the
   * agents alive), callbacks, `signal`, `module`, `onProgress`, `progress`.
   * @returns The results, in input order.
   */
  starmap<F extends TaskFunction>(
    fn: F,
    iterable: Iterable<Readonly<Parameters<F>>>,
    options: PoolMapOptions<Awaited<ReturnType<F>>[]> = {},
  ): Promise<Awaited<ReturnType<F>>[]> {
    return this.#mapCalls(fn, calls(iterable), options, callSite(this.starmap)).get();
  }

  #imap<R>(
    fn: unknown,
    it: Iterable<unknown> | AsyncIterable<unknown>,
    o: PoolMapOptions<never>,
    ordered: boolean,
    site: CallSite,
  ): AsyncIterableIterator<R> {
    let progress: Progress | undefined;
    const submit = (items: unknown[]) =>
      this.#submit(fn, [items.map((x) => [x])], o).all.then((v) => {
        progress?.settled(items.length);
        return v[0];
      }, (e) => {
        progress?.settled(items.length);
        throw withCallSite(e, site, o.signal?.reason);
      });
    const window = Math.max(64, this.#parts.agents.totals().slots * 8);
    let size: number;
    try {
      size = this.#chunksize(0, o.chunksize ?? 1);
      progress = progressOf(o, lengthOf(it), "map");
    } catch (err) {
      return failedIterator<R>(err);
    }
    return imapChunks<unknown, R>(submit, it, size, window, ordered, progress?.end);
  }

  /**
   * Results of `fn` over the items, in order, as they come; the input is read lazily.
   *
   * @param fn An exported function of one argument.
   * @param iterable The items, sync or async, read as room frees up.
   * @param options `chunksize` (default 1), `signal`, `module`, `onProgress`,
   * `progress`.
   * @returns An iterator of the results.
   */
  imap<F extends TaskFunction>(
    fn: F,
    iterable: Iterable<MapItem<F>> | AsyncIterable<MapItem<F>>,
    options: PoolMapOptions<never> = {},
  ): AsyncIterableIterator<Awaited<ReturnType<F>>> {
    return this.#imap(fn, iterable, options, true, callSite(this.imap));
  }

  /**
   * Like {@link ClusterPool.imap}, yielding each result as soon as it is ready.
   *
   * @param fn An exported function of one argument.
   * @param iterable The items, sync or async, read as room frees up.
   * @param options `chunksize` (default 1), `signal`, `module`, `onProgress`,
   * `progress`.
   * @returns An iterator of the results, in the order they come.
   */
  imapUnordered<F extends TaskFunction>(
    fn: F,
    iterable: Iterable<MapItem<F>> | AsyncIterable<MapItem<F>>,
    options: PoolMapOptions<never> = {},
  ): AsyncIterableIterator<Awaited<ReturnType<F>>> {
    return this.#imap(fn, iterable, options, false, callSite(this.imapUnordered));
  }

  /** No more tasks; those submitted still run. Idempotent. */
  close(): void {
    if (this.#state === "run") this.#state = "close";
  }

  /**
   * Fails every task not done yet, now, and deletes their messages from the
   * stream (tasks already running on an agent finish there; their results
   * are dropped). Idempotent.
   */
  terminate(): void {
    if (this.#state === "terminate") return;
    this.#state = "terminate";
    const err = new ProcessError("The pool was terminated before this task finished");
    const open = [...this.#pending];
    for (const t of open) t.settle({ error: err }, []);
    this.#batcher.terminate(open as TaskHandle[]);
  }

  /**
   * Waits until every task submitted has settled.
   *
   * @throws {ProcessError} When the pool was neither closed nor terminated.
   */
  async join(): Promise<void> {
    if (this.#state === "run") {
      throw new ProcessError("Cannot join pool: call close() or terminate() first");
    }
    while (this.#pending.size > 0) await new Promise<void>((r) => this.#idle.push(r));
    await this.#batcher.flushed();
  }

  /** `close()` then `join()`: waits for every task submitted. */
  async [Symbol.asyncDispose](): Promise<void> {
    this.close();
    await this.join();
  }
}
