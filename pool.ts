/**
 * `Pool`: Python's process pool, on both start methods, without its hangs: a
 * worker that dies fails exactly the tasks it held, with an error naming it,
 * and is replaced.
 *
 * Task functions are exported functions of a module (the main module unless
 * `module` says otherwise), found in the worker by name and source, as
 * `Process` targets are. Arguments and results cross by structured clone;
 * queues, pipe ends and other handles can be task arguments.
 *
 * @example
 * ```ts
 * import { Pool } from "./pool.ts";
 * import { assertEquals } from "@std/assert";
 *
 * const module = new URL("./tests/fixtures/pool_targets.ts", import.meta.url).href;
 * const { square } = await import(module);
 *
 * await using pool = new Pool({ processes: 2, module });
 * assertEquals(await pool.map(square, [1, 2, 3]), [1, 4, 9]);
 * assertEquals(await pool.apply(square, [5]), 25);
 * ```
 *
 * @module
 */

import { AsyncResult } from "./_internal/async_result.ts";
import { type AnyFn, fingerprint, type TargetRef } from "./_internal/child.ts";
import { ProcessError } from "./_internal/errors.ts";
import { hasHandles, packHandles } from "./_internal/handles.ts";
import type { PoolLike } from "./_internal/pool_api.ts";
import type { TaskMessage } from "./_internal/pool_worker.ts";
import { state } from "./_internal/state.ts";
import { type ErrorData, errorFromData } from "./_internal/wire.ts";
import { type Connection, EOFError, Pipe } from "./connection.ts";
import { cpuCount, type Permissions, Process, type StartMethod, type Target } from "./process.ts";

export { AsyncResult } from "./_internal/async_result.ts";
export type { PoolCallOptions, PoolLike, PoolMapOptions } from "./_internal/pool_api.ts";

const WORKER_MODULE = new URL("./_internal/pool_worker.ts", import.meta.url).href;

/**
 * A pool worker died while it held tasks: each of them fails with this,
 * naming the worker, its pid and how it ended.
 *
 * @example
 * ```ts
 * import { WorkerDiedError } from "./pool.ts";
 * import { assertEquals } from "@std/assert";
 *
 * assertEquals(new WorkerDiedError("gone").name, "WorkerDiedError");
 * ```
 */
export class WorkerDiedError extends ProcessError {}

/** Options of {@link Pool}. */
export interface PoolOptions {
  /** Number of workers. @default {cpuCount()} */
  processes?: number;
  /** An exported function each worker runs once before its first task. */
  initializer?: Target;
  /** Arguments of `initializer`. @default {[]} */
  initargs?: unknown[];
  /** Tasks a worker runs before it is replaced by a fresh one; 0 for no limit. @default {0} */
  maxTasksPerChild?: number;
  /** How workers start. @default {getStartMethod() ?? "subprocess"} */
  startMethod?: StartMethod;
  /** Permissions of subprocess workers (see `Process`). @default {"inherit"} */
  permissions?: Permissions;
  /** URL of the module exporting the task functions. @default {the main module} */
  module?: string | URL;
  /** Extra `deno run` flags for subprocess workers. @default {getRuntimeArgs()} */
  runtimeArgs?: string[];
}

/** Per-call options. */
export interface CallOptions<T> {
  /** Called once with the result. */
  callback?: (result: T) => void;
  /** Called once with the error. */
  errorCallback?: (error: unknown) => void;
  /** Cancels a queued task (it never runs) or fails a running one. */
  signal?: AbortSignal;
  /** URL of the module exporting the function, for this call. */
  module?: string | URL;
}

/** Per-call options of the map family. */
export interface MapOptions<T> extends CallOptions<T> {
  /** Items per task (Python's default for `map`, 1 for `imap`). */
  chunksize?: number;
}

interface Task {
  id: number;
  message: TaskMessage;
  resolve(values: unknown[]): void;
  reject(err: unknown): void;
  /**
   * Its arguments hold handles (queues, locks, pipes, proxies): it may wait
   * on another task, so it runs as in Python's pool, on a worker with
   * nothing else, and nothing queues behind it there.
   */
  exclusive?: boolean;
}

interface Slot {
  process: Process;
  conn: Connection;
  inflight: Map<number, Task>;
  sent: number;
  /** It runs an exclusive task (see {@link Task.exclusive}). */
  exclusive: boolean;
}

/** Tasks a worker holds at once: one running, the rest waiting there (cheaper per task). */
const PER_WORKER = 64;

/**
 * A pool of worker processes (or workers), as Python's `multiprocessing.Pool`.
 *
 * @example Tasks, callbacks, awaitable results
 * ```ts
 * import { Pool } from "./pool.ts";
 * import { assertEquals } from "@std/assert";
 *
 * const module = new URL("./tests/fixtures/pool_targets.ts", import.meta.url).href;
 * const { square } = await import(module);
 * await using pool = new Pool({ processes: 1, module, startMethod: "worker" });
 * const result = pool.applyAsync(square, [7]);
 * assertEquals(await result, 49);
 * assertEquals(result.successful(), true);
 * ```
 */
export class Pool implements PoolLike {
  #options: Required<Omit<PoolOptions, "initializer" | "module">> & PoolOptions;
  #state: "run" | "close" | "terminate" = "run";
  #slots = new Set<Slot>();
  #starting = new Set<Promise<void>>();
  #queue: Task[] = [];
  #nextId = 1;
  #live = 0;
  #refs = new WeakMap<AnyFn, TargetRef>();
  #dispatchScheduled = false;
  // Tasks whose arguments hold handles are packed (async) in submission
  // order, and tasks submitted meanwhile queue behind them.
  #packing: Promise<void> = Promise.resolve();
  #packs = 0;
  #idle: (() => void)[] = [];

  /**
   * Creates the pool and starts its workers.
   *
   * @param options The number of workers, or options.
   * @throws {RangeError} When `processes` is not a positive integer or `maxTasksPerChild` is negative.
   * @throws {TypeError} When `initializer` is not a function.
   */
  constructor(options: number | PoolOptions = {}) {
    const o = typeof options === "number" ? { processes: options } : options;
    const processes = o.processes ?? cpuCount();
    if (!Number.isInteger(processes) || processes < 1) {
      throw new RangeError(
        `Cannot create pool: 'processes' must be a positive integer, received ${processes}`,
      );
    }
    const maxTasks = o.maxTasksPerChild ?? 0;
    if (!Number.isInteger(maxTasks) || maxTasks < 0) {
      throw new RangeError(
        `Cannot create pool: 'maxTasksPerChild' must be a non-negative integer, received ${maxTasks}`,
      );
    }
    if (o.initializer !== undefined && typeof o.initializer !== "function") {
      throw new TypeError(
        `Cannot create pool: 'initializer' must be a function, received ${typeof o.initializer}`,
      );
    }
    this.#options = {
      ...o,
      processes,
      maxTasksPerChild: maxTasks,
      initargs: o.initargs ?? [],
      startMethod: o.startMethod ?? state().startMethod ?? "subprocess",
      permissions: o.permissions ?? "inherit",
      runtimeArgs: o.runtimeArgs ?? state().runtimeArgs,
    };
    for (let i = 0; i < processes; i++) this.#spawn();
  }

  #ref(fn: AnyFn, module?: string | URL): TargetRef {
    if (typeof fn !== "function" || !fn.name) {
      throw new TypeError(
        "Cannot submit task: the function must be a named function exported from a module",
      );
    }
    const mod = module ?? this.#options.module ?? state().mainModule;
    if (!mod) throw new TypeError("Cannot submit task: no main module is known; pass 'module'");
    // Hashing the function's source at every call costs more than the call.
    const known = this.#refs.get(fn);
    if (known && known.module === String(mod)) return known;
    const ref: TargetRef = {
      module: String(mod),
      exportName: fn.name,
      fingerprint: fingerprint(fn),
      kind: "function",
    };
    this.#refs.set(fn, ref);
    return ref;
  }

  #spawn(): void {
    const [mine, theirs] = Pipe();
    const o = this.#options;
    const init = o.initializer ? { fn: this.#ref(o.initializer), args: o.initargs } : null;
    const process = new Process({
      target: poolWorkerTarget,
      args: [theirs, init, o.maxTasksPerChild],
      module: WORKER_MODULE,
      startMethod: o.startMethod,
      permissions: o.permissions,
      runtimeArgs: o.runtimeArgs,
    });
    const slot: Slot = { process, conn: mine, inflight: new Map(), sent: 0, exclusive: false };
    this.#live++;
    const starting = process.start().then(
      () => {
        theirs.close(); // The worker holds it now.
        this.#slots.add(slot);
        this.#receive(slot);
        // Terminated while it started: it goes at once.
        if (this.#state === "terminate") process.kill();
        else this.#dispatch();
      },
      (err) => {
        mine.close();
        theirs.close();
        this.#fail(
          this.#queue.splice(0),
          new ProcessError(`Cannot start a pool worker: ${(err as Error).message}`, { cause: err }),
        );
        this.#gone();
      },
    ).finally(() => this.#starting.delete(starting));
    this.#starting.add(starting);
  }

  async #receive(slot: Slot): Promise<void> {
    while (true) {
      let msg: { results: { id: number; value?: unknown[]; error?: ErrorData }[] };
      try {
        msg = await slot.conn.recv() as typeof msg;
      } catch (err) {
        if (!(err instanceof EOFError)) throw err;
        break;
      }
      for (const r of msg.results) {
        const task = slot.inflight.get(r.id);
        slot.inflight.delete(r.id);
        if (slot.inflight.size === 0) slot.exclusive = false;
        if (r.error) task?.reject(errorFromData(r.error));
        else task?.resolve(r.value!);
      }
      this.#dispatch();
    }
    await this.#retire(slot);
  }

  /** A worker ended: fail what it held, and replace it if the pool goes on. */
  async #retire(slot: Slot): Promise<void> {
    this.#slots.delete(slot);
    slot.conn.close();
    await slot.process.join();
    const p = slot.process;
    // A worker runs its tasks in order: the oldest it held was running and
    // fails; the others never started and go back to the front of the queue.
    const held = [...slot.inflight.values()].sort((a, b) => a.id - b.id);
    if (held.length > 0) {
      const how = p.exitCode !== null && p.exitCode < 0
        ? `signal ${-p.exitCode}`
        : `exit code ${p.exitCode}`;
      held[0].reject(
        new WorkerDiedError(
          `Pool worker ${p.name} (pid ${p.pid}) died with ${how} while running this task`,
        ),
      );
      this.#queue.unshift(...held.slice(1));
    }
    if (this.#state === "run" || (this.#state === "close" && this.#queue.length > 0)) this.#spawn();
    else if (this.#state === "close") this.#stopIdle();
    this.#gone();
  }

  /** One worker fewer; join() wakes when none is left. */
  #gone(): void {
    if (--this.#live === 0) { for (const wake of this.#idle.splice(0)) wake(); }
  }

  #fail(tasks: Task[], err: unknown): void {
    for (const t of tasks) t.reject(err);
  }

  /** Dispatches once for all the tasks submitted in this turn. */
  #scheduleDispatch(): void {
    if (this.#dispatchScheduled) return;
    this.#dispatchScheduled = true;
    queueMicrotask(() => {
      this.#dispatchScheduled = false;
      this.#dispatch();
    });
  }

  /** Sends queued tasks to workers with room, a few per message. */
  #dispatch(): void {
    // A worker takes a slice of what is queued (a quarter of its share,
    // counting workers still starting), not all it could hold: tasks of
    // uneven cost keep spreading as workers finish theirs.
    const workers = this.#slots.size + this.#starting.size;
    for (const slot of this.#slots) {
      const limit = this.#options.maxTasksPerChild;
      const share = Math.max(1, Math.ceil(this.#queue.length / (workers * 4)));
      const room = Math.min(
        PER_WORKER - slot.inflight.size,
        share,
        limit === 0 ? Infinity : limit - slot.sent,
      );
      if (room <= 0 || this.#queue.length === 0) continue;
      const batch = this.#take(slot, room);
      if (batch.length === 0) continue;
      for (const t of batch) slot.inflight.set(t.id, t);
      slot.sent += batch.length;
      slot.conn.send({ tasks: batch.map((t) => t.message) }).catch((err) => {
        for (const t of batch) slot.inflight.delete(t.id);
        this.#fail(batch, err);
      });
    }
    if (this.#state === "close") this.#stopIdle();
  }

  /**
   * Takes up to `room` tasks from the head of the queue for `slot`, in
   * order: a run of ordinary tasks, or one exclusive task for a worker that
   * holds nothing (which then holds nothing else while it runs).
   */
  #take(slot: Slot, room: number): Task[] {
    if (slot.exclusive) return [];
    if (this.#queue[0].exclusive) {
      if (slot.inflight.size > 0) return [];
      slot.exclusive = true;
      return this.#queue.splice(0, 1);
    }
    let n = 0;
    while (n < room && n < this.#queue.length && !this.#queue[n].exclusive) n++;
    return this.#queue.splice(0, n);
  }

  /** After close(): workers with nothing left to do are told to stop. */
  #stopIdle(): void {
    if (this.#queue.length > 0) return;
    for (const slot of this.#slots) {
      if (slot.inflight.size === 0) slot.conn.send({ stop: true }).catch(() => {});
    }
  }

  #submit<T>(fn: AnyFn, calls: unknown[][], options: CallOptions<T>): Promise<unknown[]> {
    if (this.#state !== "run") {
      return Promise.reject(
        new ProcessError(
          `Cannot submit task: the pool is ${this.#state === "close" ? "closed" : "terminated"}`,
        ),
      );
    }
    const { signal } = options;
    if (signal?.aborted) return Promise.reject(signal.reason);
    let fn_: TargetRef;
    try {
      fn_ = this.#ref(fn, options.module);
    } catch (err) {
      return Promise.reject(err);
    }
    return new Promise<unknown[]>((resolve, reject) => {
      const task: Task = {
        id: this.#nextId++,
        message: { id: 0, fn: fn_, calls },
        resolve,
        reject,
      };
      task.message.id = task.id;
      const onAbort = () => {
        const i = this.#queue.indexOf(task);
        if (i >= 0) this.#queue.splice(i, 1);
        // Running: it is failed now; its result, when it comes, is dropped.
        reject(signal!.reason);
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      task.resolve = (v) => (signal?.removeEventListener("abort", onAbort), resolve(v));
      task.reject = (e) => (signal?.removeEventListener("abort", onAbort), reject(e));
      const queue = (packed: unknown[][]) => {
        task.message.calls = packed;
        this.#queue.push(task);
        this.#scheduleDispatch();
      };
      // Handles among the arguments travel as descriptors; most calls have
      // none. Tasks reach worker children by postMessage: memory is shared.
      const ctx = { sharedMemory: this.#options.startMethod === "worker" };
      const handles = hasHandles(calls);
      if (!handles && this.#packs === 0) return queue(calls);
      task.exclusive = handles;
      this.#packs++;
      const packed = this.#packing.then(() => packHandles(calls, ctx));
      this.#packing = packed.then(
        (p) => queue(p),
        (err) => task.reject(err),
      ).finally(() => this.#packs--);
    });
  }

  #withCallbacks<T>(p: Promise<T>, options: CallOptions<T>): AsyncResult<T> {
    p.then(
      (v) => options.callback?.(v),
      (e) => options.errorCallback?.(e),
    );
    return new AsyncResult(p);
  }

  /**
   * Runs `fn(...args)` in a worker; the result comes back as an
   * {@link AsyncResult}.
   */
  applyAsync<T>(
    fn: (...args: never[]) => T | Promise<T>,
    args: unknown[] = [],
    options: CallOptions<Awaited<T>> = {},
  ): AsyncResult<Awaited<T>> {
    const p = this.#submit(fn as AnyFn, [args], options).then((v) => v[0] as Awaited<T>);
    return this.#withCallbacks(p, options);
  }

  /** Runs `fn(...args)` in a worker and resolves its result. */
  apply<T>(
    fn: (...args: never[]) => T | Promise<T>,
    args: unknown[] = [],
    options: CallOptions<Awaited<T>> = {},
  ): Promise<Awaited<T>> {
    return this.applyAsync(fn, args, options).get();
  }

  /** Python's default chunk size for `map`: about four chunks per worker. */
  #chunksize(n: number, chunksize?: number): number {
    if (chunksize !== undefined) {
      if (!Number.isInteger(chunksize) || chunksize < 1) {
        throw new RangeError(
          `Cannot map: 'chunksize' must be a positive integer, received ${chunksize}`,
        );
      }
      return chunksize;
    }
    return Math.max(1, Math.ceil(n / (this.#options.processes * 4)));
  }

  #mapCalls<T>(calls: unknown[][], options: MapOptions<T[]>): AsyncResult<T[]> {
    let p: Promise<T[]>;
    try {
      const size = this.#chunksize(calls.length, options.chunksize);
      const fnOf = (options as { fn: AnyFn }).fn;
      const chunks: Promise<unknown[]>[] = [];
      for (let i = 0; i < calls.length; i += size) {
        chunks.push(this.#submit(fnOf, calls.slice(i, i + size), options));
      }
      p = Promise.all(chunks).then((parts) => parts.flat() as T[]);
    } catch (err) {
      p = Promise.reject(err);
    }
    return this.#withCallbacks(p, options);
  }

  /** `map` that returns an {@link AsyncResult} of the list of results. */
  mapAsync<T, R>(
    fn: (item: T) => R | Promise<R>,
    iterable: Iterable<T>,
    options: MapOptions<Awaited<R>[]> = {},
  ): AsyncResult<Awaited<R>[]> {
    let calls: unknown[][];
    try {
      calls = Array.from(iterable, (x) => [x]);
    } catch (err) {
      // The input's own error, as itself.
      return this.#withCallbacks(Promise.reject(err), options);
    }
    return this.#mapCalls(calls, { ...options, fn } as MapOptions<Awaited<R>[]>);
  }

  /** Applies `fn` to every item, in chunks across the workers; results in input order. */
  map<T, R>(
    fn: (item: T) => R | Promise<R>,
    iterable: Iterable<T>,
    options: MapOptions<Awaited<R>[]> = {},
  ): Promise<Awaited<R>[]> {
    return this.mapAsync(fn, iterable, options).get();
  }

  /** `starmap` that returns an {@link AsyncResult}. */
  starmapAsync<R>(
    fn: (...args: never[]) => R | Promise<R>,
    iterable: Iterable<unknown[]>,
    options: MapOptions<Awaited<R>[]> = {},
  ): AsyncResult<Awaited<R>[]> {
    let calls: unknown[][];
    try {
      calls = [...iterable];
    } catch (err) {
      return this.#withCallbacks(Promise.reject(err), options);
    }
    return this.#mapCalls(calls, { ...options, fn } as MapOptions<Awaited<R>[]>);
  }

  /** Like {@link Pool.map}, with each item spread as the arguments. */
  starmap<R>(
    fn: (...args: never[]) => R | Promise<R>,
    iterable: Iterable<unknown[]>,
    options: MapOptions<Awaited<R>[]> = {},
  ): Promise<Awaited<R>[]> {
    return this.starmapAsync(fn, iterable, options).get();
  }

  async *#imap<T, R>(
    fn: (item: T) => R,
    iterable: Iterable<T> | AsyncIterable<T>,
    options: MapOptions<never>,
    ordered: boolean,
  ): AsyncGenerator<Awaited<R>> {
    const size = this.#chunksize(0, options.chunksize ?? 1);
    const window = this.#options.processes * PER_WORKER;
    const pending: { p: Promise<unknown[]>; done: boolean; value?: unknown[] }[] = [];
    let chunk: unknown[][] = [];
    const flush = () => {
      const entry: (typeof pending)[number] = {
        p: this.#submit(fn as AnyFn, chunk, options),
        done: false,
      };
      entry.p.then((v) => ((entry.done = true), (entry.value = v)), () => (entry.done = true));
      pending.push(entry);
      chunk = [];
    };
    const take = async () => {
      const i = ordered ? 0 : await Promise.race(pending.map((e, i) => e.p.then(() => i, () => i)));
      const [entry] = pending.splice(i, 1);
      return await entry.p as Awaited<R>[];
    };
    let inputError: { error: unknown } | undefined;
    try {
      for await (const item of iterable) {
        chunk.push([item]);
        if (chunk.length >= size) flush();
        while (pending.length >= window) yield* await take();
      }
    } catch (error) {
      // The input failed: what was read before it still comes out, then its error.
      inputError = { error };
    }
    if (chunk.length > 0) flush();
    while (pending.length > 0) yield* await take();
    if (inputError) throw inputError.error;
  }

  /**
   * Results of `fn` over the items, in order, as they come: the input is
   * read lazily, with a bounded number of chunks in flight.
   */
  imap<T, R>(
    fn: (item: T) => R | Promise<R>,
    iterable: Iterable<T> | AsyncIterable<T>,
    options: MapOptions<never> = {},
  ): AsyncGenerator<Awaited<R>> {
    return this.#imap(fn, iterable, options, true);
  }

  /** Like {@link Pool.imap}, yielding each result as soon as it is ready. */
  imapUnordered<T, R>(
    fn: (item: T) => R | Promise<R>,
    iterable: Iterable<T> | AsyncIterable<T>,
    options: MapOptions<never> = {},
  ): AsyncGenerator<Awaited<R>> {
    return this.#imap(fn, iterable, options, false);
  }

  /** No more tasks; workers exit once the queued ones are done. Idempotent. */
  close(): void {
    if (this.#state !== "run") return;
    this.#state = "close";
    this.#stopIdle();
  }

  /** Stops every worker now; queued and running tasks fail. Idempotent. */
  terminate(): void {
    if (this.#state === "terminate") return;
    this.#state = "terminate";
    const err = new ProcessError("The pool was terminated before this task finished");
    this.#fail(this.#queue.splice(0), err);
    for (const slot of this.#slots) {
      this.#fail([...slot.inflight.values()], err);
      slot.inflight.clear();
      if (slot.process.isAlive()) slot.process.kill();
    }
  }

  /**
   * Waits for every worker to exit.
   *
   * @throws {ProcessError} When the pool was neither closed nor terminated.
   */
  async join(): Promise<void> {
    if (this.#state === "run") {
      throw new ProcessError("Cannot join pool: call close() or terminate() first");
    }
    // Every worker ever spawned has been fully retired (exited, its tasks
    // settled, a replacement spawned if one was due) when #live is 0.
    while (this.#live > 0) {
      await new Promise<void>((resolve) => this.#idle.push(resolve));
    }
  }

  /** `close()` then `join()`. */
  async [Symbol.asyncDispose](): Promise<void> {
    this.close();
    await this.join();
  }
}

// The worker target, referenced so the child finds it by name and source.
import { poolWorker as poolWorkerTarget } from "./_internal/pool_worker.ts";
