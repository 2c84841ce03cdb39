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
 * @example Map and apply on a pool
 * ```ts
 * import { Pool } from "@mp/multiprocessing/pool";
 * import { square } from "@mp/multiprocessing/targets";
 * import { assertEquals } from "@std/assert";
 *
 * const module = import.meta.resolve("@mp/multiprocessing/targets");
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
import { EOFError, ProcessError } from "./_internal/base/errors.ts";
import { state } from "./_internal/base/state.ts";
import { keepAlive, once } from "./_internal/base/async.ts";
import { checkOptionNames } from "./_internal/base/options.ts";
import { type CallSite, callSite, withCallSite } from "./_internal/base/call_site.ts";
import { valueNow } from "./_internal/hub/handles.ts";
import { lengthOf, type Progress, progressOf } from "./_internal/pool/progress.ts";
import {
  CALL_OPTIONS,
  callClone,
  type CallOptions,
  MAP_OPTIONS,
  type MapOptions,
  type PoolOptions,
  type PoolSettings,
  poolSettings,
} from "./pool/options.ts";
import {
  IMAP_PER_WORKER,
  type LaunchedWorker,
  PER_WORKER,
  PoolEngine,
  type Settle,
} from "./_internal/pool/engine.ts";
import { failedIterator, imapChunks } from "./_internal/pool/imap.ts";
import { mapChunks } from "./_internal/pool/map.ts";
import { newSealKey, sealOf } from "./_internal/pool/seal.ts";
import { newSandboxId } from "./_internal/transport/keys.ts";
import { SANDBOX_ID, SEND_TAKEN, TRANSFER } from "./_internal/base/symbols.ts";
import type { MapItem, PoolLike, TaskFunction } from "./pool/pool_like.ts";
import { Pipe } from "./connection.ts";
import { Process, type ProcessOptions } from "./process.ts";
import { validateOptions } from "./_internal/process/options.ts";

export { AsyncResult } from "./pool/async_result.ts";
export type { CallOptions, MapOptions, PoolOptions } from "./pool/options.ts";
export { BrokenPoolError, WorkerDiedError } from "./_internal/base/errors.ts";
export type {
  MapItem,
  PoolCallOptions,
  PoolLike,
  PoolMapOptions,
  TaskFunction,
} from "./pool/pool_like.ts";

const WORKER_MODULE = new URL("./_internal/pool/worker.ts", import.meta.url).href;

/**
 * The target every worker runs, loaded when the first one starts: a child
 * importing this module (its target's module imports the package) makes no
 * pool, and loads neither the worker's loop nor the client it uses.
 */
const workerTarget = once(() =>
  import("./_internal/pool/worker.ts").then((m) => m.poolWorker as AnyFn)
);
/** The links of worker threads, loaded when the first starts. */
const portLinks = once(() => import("./_internal/pool/port_link.ts"));

/**
 * A pool of worker processes (or workers), as Python's `multiprocessing.Pool`.
 *
 * @example Tasks, callbacks, awaitable results
 * ```ts
 * import { Pool } from "@mp/multiprocessing/pool";
 * import { square } from "@mp/multiprocessing/targets";
 * import { assertEquals } from "@std/assert";
 *
 * const module = import.meta.resolve("@mp/multiprocessing/targets");
 * await using pool = new Pool({ processes: 1, module, startMethod: "worker" });
 * const result = pool.applyAsync(square, [7]);
 * assertEquals(await result, 49);
 * assertEquals(result.successful(), true);
 * ```
 */
export class Pool implements PoolLike {
  #options: PoolSettings;
  #engine: PoolEngine;
  #refs = new WeakMap<AnyFn, TargetRef>();
  /** The key of the seals on task modules (`_internal/pool/seal.ts`), given to each worker. */
  #sealKey = newSealKey();
  /** The workers' sandbox, when their permissions are narrowed (`_internal/hub/grants.ts`). */
  #sandbox: string | undefined;

  /**
   * Creates the pool and starts its workers.
   *
   * @param options The number of workers, or options.
   * @throws {RangeError} When `processes` or `maxTasksPerChild` is not a positive integer.
   * @throws {TypeError} When `initializer` is not a function.
   */
  constructor(options: number | PoolOptions = {}) {
    this.#options = poolSettings(options);
    const { processes, maxTasksPerChild, startMethod, runtimeArgs } = this.#options;
    // What a worker's process would refuse when made, refused now: they
    // are made as they start, after this returns.
    validateOptions({ startMethod, runtimeArgs });
    // Narrowed workers share one sandbox: a task's grants serve whichever runs it.
    if (this.#options.permissions !== "inherit") this.#sandbox = newSandboxId();
    this.#engine = new PoolEngine({
      processes,
      sandbox: this.#sandbox,
      maxTasksPerChild,
      // Tasks reach worker children by postMessage: memory is shared; and
      // workers with this process's permissions reach a hub with no socket over ports.
      pack: {
        sharedMemory: this.#options.startMethod === "worker",
        toWorker: this.#options.startMethod === "worker" && this.#options.permissions === "inherit",
      },
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
      // Workers import only what this pool vouched for.
      seal: sealOf(this.#sealKey, String(mod)),
    };
    this.#refs.set(fn, ref);
    return ref;
  }

  /**
   * Starts one worker: a process running the worker loop, fed through a
   * pipe; a worker thread, through a message port of its own
   * (`_internal/pool/port_link.ts`).
   */
  async #launch(): Promise<LaunchedWorker> {
    if (this.#options.startMethod === "worker") return await this.#launchThread();
    const target = await workerTarget();
    const [mine, theirs] = Pipe();
    const process = this.#worker(target, theirs);
    // The worker holds its end once started; here it is closed either way.
    const started = process.start().finally(() => theirs.close());
    // The engine's messages hold only what the pool took already (tasks'
    // arguments, at the call): they go without another copy.
    // Closed here (the engine stopped the worker), a receive ends as the
    // link's contract says, with EOFError: not with the closed
    // connection's error, which would escape the engine's receive loop.
    let closed = false;
    const conn = {
      send: (value: unknown) => mine[SEND_TAKEN](value),
      recv: () =>
        closed ? Promise.reject(new EOFError("The worker's link is closed here")) : mine.recv(),
      close: () => {
        closed = true;
        mine.close();
      },
    };
    return { process, conn, started };
  }

  async #launchThread(): Promise<LaunchedWorker> {
    const [target, { PortLink, portPair }] = await Promise.all([
      workerTarget(),
      portLinks(),
    ]);
    const { port1, port2 } = await portPair();
    const process = this.#worker(target, port2, [port2]);
    // Moved to the thread with its start; here it is closed either way (a
    // start refused before the move would otherwise keep it open).
    const started = process.start().finally(() => port2.close());
    return { process, conn: new PortLink(port1, true), started };
  }

  /** The process of a worker on `link` (moved to it where `transfer` says so). */
  #worker(target: AnyFn, link: unknown, transfer?: Transferable[]): Process {
    const o = this.#options;
    const init = o.initializer ? { fn: this.#ref(o.initializer), args: o.initargs } : null;
    return new Process({
      target,
      args: [link, init, o.maxTasksPerChild, this.#sealKey],
      // As Python's: terminated at exit, and never what keeps a program alive.
      daemon: true,
      module: WORKER_MODULE,
      startMethod: o.startMethod,
      permissions: o.permissions,
      runtimeArgs: o.runtimeArgs,
      [SANDBOX_ID]: this.#sandbox,
      ...(transfer ? { [TRANSFER]: transfer } : {}),
    } as ProcessOptions);
  }

  /** Submits one call: `fn(...args)`. */
  #submit<T>(fn: AnyFn, args: unknown[], options: CallOptions<T>): Promise<unknown[]> {
    let ref: TargetRef;
    let plain: boolean;
    try {
      checkOptionNames("submit task", options, CALL_OPTIONS);
      ref = this.#ref(fn, options.module);
      plain = callClone(this.#options, options) === "plain";
      // Taken now: the task may wait its turn, and the caller go on changing them.
      args = valueNow(args, !plain, "args");
    } catch (err) {
      return Promise.reject(err);
    }
    return this.#engine.submit(ref, [args], true, options.signal, plain);
  }

  /**
   * The call's result, the callbacks told of it. Its error gets the stack
   * of the code that awaits it after `Submitted at:` (see `AsyncResult`),
   * but for what is the caller's own: its signal's reason, its input's error.
   */
  #result<T>(p: Promise<T>, options: CallOptions<T>, own?: { error: unknown }): AsyncResult<T> {
    p.then(
      (v) => options.callback?.(v),
      (e) => options.errorCallback?.(e),
    );
    const { signal } = options;
    return new AsyncResult(p, (err) => err === (own ? own.error : signal?.reason));
  }

  /**
   * Runs `fn(...args)` in a worker; the result comes back as an
   * {@link AsyncResult}.
   *
   * @param fn An exported function (of the main module, or of `module`).
   * @param args Its arguments (typed from its parameters), taken at the call.
   * @param options Callbacks, `signal`, `module`.
   * @returns The result to come; its error, if any, carries the call site
   * after the remote stack (`Submitted at:`).
   */
  applyAsync<F extends TaskFunction>(
    fn: F,
    args?: Readonly<Parameters<F>>,
    options: CallOptions<Awaited<ReturnType<F>>> = {},
  ): AsyncResult<Awaited<ReturnType<F>>> {
    return this.#apply(fn, args, options);
  }

  /**
   * Runs `fn(...args)` in a worker and resolves its result.
   *
   * @param fn An exported function (of the main module, or of `module`).
   * @param args Its arguments (typed from its parameters), taken at the call.
   * @param options Callbacks, `signal`, `module`.
   * @returns Its result.
   * @throws The task's error (the remote stack, then `Submitted at:` and
   * this call's stack), `WorkerDiedError` when its worker died,
   * `signal.reason` once aborted, a `TypeError` for a function that is not
   * an exported named function.
   */
  apply<F extends TaskFunction>(
    fn: F,
    args?: Readonly<Parameters<F>>,
    options: CallOptions<Awaited<ReturnType<F>>> = {},
  ): Promise<Awaited<ReturnType<F>>> {
    return this.#apply(fn, args, options).get();
  }

  #apply<F extends TaskFunction>(
    fn: F,
    args: Readonly<Parameters<F>> | undefined,
    options: CallOptions<Awaited<ReturnType<F>>>,
  ): AsyncResult<Awaited<ReturnType<F>>> {
    type R = Awaited<ReturnType<F>>;
    const p = this.#submit(fn, (args ?? []) as unknown[], options).then((v) => v[0] as R);
    return this.#result(p, options);
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
   * Maps over the input in chunks, a window of them in flight (see
   * `_internal/pool/map.ts`): each entry is the one argument of a call, or
   * with `spread` its argument list.
   */
  #map<T>(
    fn: TaskFunction,
    iterable: Iterable<unknown>,
    spread: boolean,
    options: MapOptions<T[]>,
  ): AsyncResult<T[]> {
    let input: unknown[];
    try {
      // A copy, read as its chunks go out: the caller may change its own.
      // (slice() allocates it once; Array.from grows it as it iterates.)
      input = Array.isArray(iterable) ? iterable.slice() : Array.from(iterable);
    } catch (err) {
      // The input's own error, as itself.
      return this.#result(Promise.reject(err), options, { error: err });
    }
    let p: Promise<T[]>;
    try {
      checkOptionNames("map", options, MAP_OPTIONS);
      const size = this.#chunksize(input.length, options.chunksize);
      const ref = this.#ref(fn, options.module);
      const plain = callClone(this.#options, options) === "plain";
      // The items as they are now, as the list is: its chunks go out later.
      takeItems(input, 0, plain);
      const progress = progressOf(options, input.length, "map");
      const { signal } = options;
      // Its chunks are known now: the scheduler counts those the window holds back.
      const expected = this.#engine.expect(Math.ceil(input.length / size));
      p = mapChunks(input.length, size, this.#mapWindow(size), (start, end, settle) => {
        expected(1);
        const chunk = input.slice(start, end);
        const told: Settle = progress
          ? (ok, result) => {
            if (ok) {
              try {
                progress.settled(chunk.length);
              } catch (err) {
                return settle(false, err);
              }
            }
            settle(ok, result);
          }
          : settle;
        this.#engine.submitTo(ref, chunk, spread, told, signal, plain);
      }) as Promise<T[]>;
      p.then(() => expected(), () => expected());
      if (progress) p.then(progress.end, progress.end);
    } catch (err) {
      p = Promise.reject(err);
    }
    return this.#result(p, options);
  }

  /** Chunks a map keeps in flight: enough to keep every worker fed, as few as that takes. */
  #mapWindow(size: number): number {
    const most = 2 * this.#options.processes * PER_WORKER;
    return Math.max(2 * this.#options.processes, Math.ceil(most / size));
  }

  /**
   * `map` that returns an {@link AsyncResult} of the list of results.
   *
   * @param fn An exported function of one argument.
   * @param iterable The items (copied at once, each as it is then).
   * @param options `chunksize`, callbacks, `signal`, `module`.
   * @returns The results to come, in input order.
   */
  mapAsync<F extends TaskFunction>(
    fn: F,
    iterable: Iterable<MapItem<F>>,
    options: MapOptions<Awaited<ReturnType<F>>[]> = {},
  ): AsyncResult<Awaited<ReturnType<F>>[]> {
    return this.#map(fn, iterable, false, options);
  }

  /**
   * Applies `fn` to every item, in chunks across the workers.
   *
   * @param fn An exported function of one argument.
   * @param iterable The items (copied at once, each as it is then).
   * @param options `chunksize`, callbacks, `signal`, `module`.
   * @returns The results, in input order.
   * @throws The first failed task's error (its remote stack, then the call
   * site); the input's own error; `signal.reason` once aborted.
   */
  map<F extends TaskFunction>(
    fn: F,
    iterable: Iterable<MapItem<F>>,
    options: MapOptions<Awaited<ReturnType<F>>[]> = {},
  ): Promise<Awaited<ReturnType<F>>[]> {
    return this.#map(fn, iterable, false, options).get();
  }

  /**
   * `starmap` that returns an {@link AsyncResult}.
   *
   * @param fn An exported function.
   * @param iterable Argument lists, one per call (typed from `fn`'s parameters).
   * @param options `chunksize`, callbacks, `signal`, `module`.
   * @returns The results to come, in input order.
   */
  starmapAsync<F extends TaskFunction>(
    fn: F,
    iterable: Iterable<Readonly<Parameters<F>>>,
    options: MapOptions<Awaited<ReturnType<F>>[]> = {},
  ): AsyncResult<Awaited<ReturnType<F>>[]> {
    return this.#map(fn, iterable, true, options);
  }

  /**
   * Like {@link Pool.map}, with each entry spread as the arguments.
   *
   * @param fn An exported function.
   * @param iterable Argument lists, one per call (typed from `fn`'s parameters).
   * @param options `chunksize`, callbacks, `signal`, `module`.
   * @returns The results, in input order.
   * @throws As {@link Pool.map}.
   */
  starmap<F extends TaskFunction>(
    fn: F,
    iterable: Iterable<Readonly<Parameters<F>>>,
    options: MapOptions<Awaited<ReturnType<F>>[]> = {},
  ): Promise<Awaited<ReturnType<F>>[]> {
    return this.#map(fn, iterable, true, options).get();
  }

  #imap<R>(
    fn: TaskFunction,
    iterable: Iterable<unknown> | AsyncIterable<unknown>,
    options: MapOptions<never>,
    ordered: boolean,
    site: CallSite,
  ): AsyncIterableIterator<R> {
    const window = this.#options.processes * IMAP_PER_WORKER;
    let ref: TargetRef;
    let size: number;
    let plain: boolean;
    let progress: Progress | undefined;
    try {
      checkOptionNames("map", options, MAP_OPTIONS);
      size = this.#chunksize(0, options.chunksize ?? 1);
      ref = this.#ref(fn, options.module);
      plain = callClone(this.#options, options) === "plain";
      progress = progressOf(options, lengthOf(iterable), "map");
    } catch (err) {
      return failedIterator(err);
    }
    const { signal } = options;
    let read = 0;
    const submit = (items: unknown[]) => {
      const at = read;
      read += items.length;
      let sent: Promise<never> | undefined;
      try {
        takeItems(items, at, plain);
      } catch (err) {
        sent = Promise.reject(err);
      }
      return (sent ?? this.#engine.submit(ref, items, false, signal, plain)).then((v) => {
        progress?.settled(items.length);
        return v;
      }, (e) => {
        progress?.settled(items.length);
        throw withCallSite(e, site, signal?.reason);
      });
    };
    return imapChunks(submit, iterable, size, window, ordered, progress?.end);
  }

  /**
   * Results of `fn` over the items, in order, as they come: the input is
   * read lazily, with a bounded number of chunks in flight. As Python's
   * iterator, `next()` rejects for a failed item (with `chunksize`, for its
   * chunk) and the following call resolves the next result; a `for await`
   * loop stops at the first error, as JavaScript's loops do, and a `break`
   * stops reading the input.
   *
   * @param fn An exported function of one argument.
   * @param iterable The items, sync or async, read as room frees up.
   * @param options `chunksize` (default 1), `signal`, `module`.
   * @returns An iterator of the results.
   */
  imap<F extends TaskFunction>(
    fn: F,
    iterable: Iterable<MapItem<F>> | AsyncIterable<MapItem<F>>,
    options: MapOptions<never> = {},
  ): AsyncIterableIterator<Awaited<ReturnType<F>>> {
    return this.#imap(fn, iterable, options, true, callSite(this.imap));
  }

  /**
   * Like {@link Pool.imap}, yielding each result as soon as it is ready.
   *
   * @param fn An exported function of one argument.
   * @param iterable The items, sync or async, read as room frees up.
   * @param options `chunksize` (default 1), `signal`, `module`.
   * @returns An iterator of the results, in the order they come.
   */
  imapUnordered<F extends TaskFunction>(
    fn: F,
    iterable: Iterable<MapItem<F>> | AsyncIterable<MapItem<F>>,
    options: MapOptions<never> = {},
  ): AsyncIterableIterator<Awaited<ReturnType<F>>> {
    return this.#imap(fn, iterable, options, false, callSite(this.imapUnordered));
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

/**
 * Takes items (`items[at]` on of the input) as they are now, in place (see
 * `valueNow`).
 *
 * @throws {DOMException} `DataCloneError` for the first that is not plain
 * data (unless `plain`), or cannot be cloned.
 */
function takeItems(items: unknown[], at: number, plain: boolean): void {
  for (let i = 0; i < items.length; i++) {
    const x = items[i];
    // Numbers and strings, most items, are taken as they are; a function refused.
    if (typeof x !== "number" && typeof x !== "string") {
      items[i] = valueNow(x, !plain, () => `items[${at + i}]`);
    }
  }
}
