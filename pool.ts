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

import { AsyncResult } from "./pool/async_result.ts";
import { type AnyFn, fingerprint, type TargetRef } from "./_internal/process/target.ts";
import { ProcessError } from "./_internal/base/errors.ts";
import { state } from "./_internal/base/state.ts";
import { keepAlive } from "./_internal/base/async.ts";
import { checkOptionNames, optionNames } from "./_internal/base/options.ts";
import { type LaunchedWorker, PER_WORKER, PoolEngine } from "./_internal/pool/engine.ts";
import { failedIterator, imapChunks } from "./_internal/pool/imap.ts";
import { mapChunks } from "./_internal/pool/map.ts";
import type { MapItem, PoolLike, TaskFunction } from "./pool/pool_like.ts";
import { Pipe } from "./connection.ts";
import { cpuCount, type Permissions, Process, type StartMethod, type Target } from "./process.ts";

export { AsyncResult } from "./pool/async_result.ts";
export { BrokenPoolError, WorkerDiedError } from "./_internal/base/errors.ts";
export type {
  MapItem,
  PoolCallOptions,
  PoolLike,
  PoolMapOptions,
  TaskFunction,
} from "./pool/pool_like.ts";

const POOL_OPTIONS = optionNames(
  "processes",
  "initializer",
  "initargs",
  "maxTasksPerChild",
  "startMethod",
  "permissions",
  "module",
  "runtimeArgs",
);
const CALL_OPTIONS = optionNames("callback", "errorCallback", "signal", "module");
const MAP_OPTIONS = optionNames(...CALL_OPTIONS, "chunksize");
// What #mapCalls sees: the caller's options and the function.
const MAP_OPTIONS_FN = optionNames(...MAP_OPTIONS, "fn");

const WORKER_MODULE = new URL("./_internal/pool/worker.ts", import.meta.url).href;

/** Options of {@link Pool}. */
export interface PoolOptions {
  /** Number of workers. @default {cpuCount()} */
  processes?: number;
  /** An exported function each worker runs once before its first task. */
  initializer?: Target;
  /** Arguments of `initializer`. @default {[]} */
  initargs?: unknown[];
  /**
   * Tasks a worker runs before it is replaced by a fresh one (a positive
   * integer, as Python's); no limit when absent.
   * @default {undefined}
   */
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
  #engine: PoolEngine;
  #refs = new WeakMap<AnyFn, TargetRef>();

  /**
   * Creates the pool and starts its workers.
   *
   * @param options The number of workers, or options.
   * @throws {RangeError} When `processes` or `maxTasksPerChild` is not a positive integer.
   * @throws {TypeError} When `initializer` is not a function.
   */
  constructor(options: number | PoolOptions = {}) {
    const o = typeof options === "number" ? { processes: options } : options;
    checkOptionNames("create pool", o, POOL_OPTIONS);
    const processes = o.processes ?? cpuCount();
    if (!Number.isInteger(processes) || processes < 1) {
      throw new RangeError(
        `Cannot create pool: 'processes' must be a positive integer, received ${processes}`,
      );
    }
    const maxTasks = o.maxTasksPerChild;
    if (maxTasks !== undefined && !(Number.isInteger(maxTasks) && maxTasks >= 1)) {
      throw new RangeError(
        `Cannot create pool: 'maxTasksPerChild' must be a positive integer, received ${maxTasks}`,
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
      maxTasksPerChild: maxTasks ?? 0,
      initargs: o.initargs ?? [],
      startMethod: o.startMethod ?? state().startMethod ?? "subprocess",
      permissions: o.permissions ?? "inherit",
      runtimeArgs: o.runtimeArgs ?? state().runtimeArgs,
    };
    this.#engine = new PoolEngine({
      processes,
      maxTasksPerChild: maxTasks ?? 0,
      // Tasks reach worker children by postMessage: memory is shared.
      pack: { sharedMemory: this.#options.startMethod === "worker" },
      launch: () => this.#launch(),
    });
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

  /** Starts one worker: a process running the worker loop, fed through a pipe. */
  #launch(): LaunchedWorker {
    const [mine, theirs] = Pipe();
    const o = this.#options;
    const init = o.initializer ? { fn: this.#ref(o.initializer), args: o.initargs } : null;
    const process = new Process({
      target: poolWorkerTarget,
      args: [theirs, init, o.maxTasksPerChild],
      // As Python's: terminated at exit, and never what keeps a program alive.
      daemon: true,
      module: WORKER_MODULE,
      startMethod: o.startMethod,
      permissions: o.permissions,
      runtimeArgs: o.runtimeArgs,
    });
    // The worker holds its end once started; here it is closed either way.
    const started = process.start().finally(() => theirs.close());
    return { process, conn: mine, started };
  }

  #submit<T>(fn: AnyFn, calls: unknown[][], options: CallOptions<T>): Promise<unknown[]> {
    let ref: TargetRef;
    try {
      checkOptionNames("submit task", options, CALL_OPTIONS);
      ref = this.#ref(fn, options.module);
    } catch (err) {
      return Promise.reject(err);
    }
    return this.#engine.submit(ref, calls, options.signal);
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
  applyAsync<F extends TaskFunction>(
    fn: F,
    args?: Readonly<Parameters<F>>,
    options: CallOptions<Awaited<ReturnType<F>>> = {},
  ): AsyncResult<Awaited<ReturnType<F>>> {
    type R = Awaited<ReturnType<F>>;
    const p = this.#submit(fn, [(args ?? []) as unknown[]], options).then((v) => v[0] as R);
    return this.#withCallbacks(p, options);
  }

  /** Runs `fn(...args)` in a worker and resolves its result. */
  apply<F extends TaskFunction>(
    fn: F,
    args?: Readonly<Parameters<F>>,
    options: CallOptions<Awaited<ReturnType<F>>> = {},
  ): Promise<Awaited<ReturnType<F>>> {
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

  /**
   * Maps over `input` in chunks, a window of them in flight (see
   * `_internal/pool/map.ts`): each entry is the one argument of a call, or
   * with `spread` its argument list.
   */
  #mapCalls<T>(
    input: unknown[],
    spread: boolean,
    options: MapOptions<T[]> & { fn: AnyFn },
  ): AsyncResult<T[]> {
    let p: Promise<T[]>;
    try {
      checkOptionNames("map", options, MAP_OPTIONS_FN);
      const size = this.#chunksize(input.length, options.chunksize);
      const ref = this.#ref(options.fn, options.module);
      const { signal } = options;
      // Enough to keep every worker fed; as few large chunks as that takes.
      const most = 2 * this.#options.processes * PER_WORKER;
      const window = Math.max(2 * this.#options.processes, Math.ceil(most / size));
      p = mapChunks(input.length, size, window, (start, end) => {
        const chunk = input.slice(start, end);
        return spread
          ? this.#engine.submit(ref, chunk as unknown[][], signal)
          : this.#engine.submitItems(ref, chunk, signal);
      }) as Promise<T[]>;
    } catch (err) {
      p = Promise.reject(err);
    }
    return this.#withCallbacks(p, options);
  }

  /** `map` that returns an {@link AsyncResult} of the list of results. */
  mapAsync<F extends TaskFunction>(
    fn: F,
    iterable: Iterable<MapItem<F>>,
    options: MapOptions<Awaited<ReturnType<F>>[]> = {},
  ): AsyncResult<Awaited<ReturnType<F>>[]> {
    let items: unknown[];
    try {
      // A copy, read as its chunks go out: the caller may change its own.
      // (slice() allocates it once; Array.from grows it as it iterates.)
      items = Array.isArray(iterable) ? iterable.slice() : Array.from(iterable);
    } catch (err) {
      // The input's own error, as itself.
      return this.#withCallbacks(Promise.reject(err), options);
    }
    return this.#mapCalls(items, false, { ...options, fn: fn as AnyFn });
  }

  /** Applies `fn` to every item, in chunks across the workers; results in input order. */
  map<F extends TaskFunction>(
    fn: F,
    iterable: Iterable<MapItem<F>>,
    options: MapOptions<Awaited<ReturnType<F>>[]> = {},
  ): Promise<Awaited<ReturnType<F>>[]> {
    return this.mapAsync(fn, iterable, options).get();
  }

  /** `starmap` that returns an {@link AsyncResult}. */
  starmapAsync<F extends TaskFunction>(
    fn: F,
    iterable: Iterable<Readonly<Parameters<F>>>,
    options: MapOptions<Awaited<ReturnType<F>>[]> = {},
  ): AsyncResult<Awaited<ReturnType<F>>[]> {
    let calls: unknown[][];
    try {
      calls = [...iterable] as unknown as unknown[][];
    } catch (err) {
      return this.#withCallbacks(Promise.reject(err), options);
    }
    return this.#mapCalls(calls, true, { ...options, fn: fn as AnyFn });
  }

  /** Like {@link Pool.map}, with each item spread as the arguments. */
  starmap<F extends TaskFunction>(
    fn: F,
    iterable: Iterable<Readonly<Parameters<F>>>,
    options: MapOptions<Awaited<ReturnType<F>>[]> = {},
  ): Promise<Awaited<ReturnType<F>>[]> {
    return this.starmapAsync(fn, iterable, options).get();
  }

  #imap<R>(
    fn: TaskFunction,
    iterable: Iterable<unknown> | AsyncIterable<unknown>,
    options: MapOptions<never>,
    ordered: boolean,
  ): AsyncIterableIterator<R> {
    const window = this.#options.processes * PER_WORKER;
    let ref: TargetRef;
    let size: number;
    try {
      checkOptionNames("map", options, MAP_OPTIONS);
      size = this.#chunksize(0, options.chunksize ?? 1);
      ref = this.#ref(fn, options.module);
    } catch (err) {
      return failedIterator(err);
    }
    const submit = (items: unknown[]) => this.#engine.submitItems(ref, items, options.signal);
    return imapChunks(submit, iterable, size, window, ordered);
  }

  /**
   * Results of `fn` over the items, in order, as they come: the input is
   * read lazily, with a bounded number of chunks in flight. As Python's
   * iterator, `next()` rejects for a failed item (with `chunksize`, for its
   * chunk) and the following call resolves the next result; a `for await`
   * loop stops at the first error, as JavaScript's loops do, and a `break`
   * stops reading the input.
   */
  imap<F extends TaskFunction>(
    fn: F,
    iterable: Iterable<MapItem<F>> | AsyncIterable<MapItem<F>>,
    options: MapOptions<never> = {},
  ): AsyncIterableIterator<Awaited<ReturnType<F>>> {
    return this.#imap(fn, iterable, options, true);
  }

  /** Like {@link Pool.imap}, yielding each result as soon as it is ready. */
  imapUnordered<F extends TaskFunction>(
    fn: F,
    iterable: Iterable<MapItem<F>> | AsyncIterable<MapItem<F>>,
    options: MapOptions<never> = {},
  ): AsyncIterableIterator<Awaited<ReturnType<F>>> {
    return this.#imap(fn, iterable, options, false);
  }

  /** No more tasks; workers exit once the queued ones are done. Idempotent. */
  close(): void {
    this.#engine.close();
  }

  /** Stops every worker now; queued and running tasks fail. Idempotent. */
  terminate(): void {
    this.#engine.terminate();
  }

  /**
   * Waits for every worker to exit.
   *
   * @throws {ProcessError} When the pool was neither closed nor terminated.
   */
  async join(): Promise<void> {
    if (this.#engine.state === "run") {
      throw new ProcessError("Cannot join pool: call close() or terminate() first");
    }
    // A wait keeps the program alive; the workers themselves do not.
    await this.#engine.join().finally(keepAlive());
  }

  /** `close()` then `join()`. */
  async [Symbol.asyncDispose](): Promise<void> {
    this.close();
    await this.join();
  }
}

// The worker target, referenced so the child finds it by name and source.
import { poolWorker as poolWorkerTarget } from "./_internal/pool/worker.ts";
