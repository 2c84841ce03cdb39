/**
 * The pool API as an interface: what the local `Pool` and the cluster's pool
 * both implement, so that code written against one runs on the other. It
 * sits below both (it imports only `AsyncResult`), so neither imports the
 * other for it.
 *
 * @module
 */

import type { AsyncResult } from "./async_result.ts";

/**
 * A function a pool can run: exported from a module, its arguments and
 * result cloneable. Calls are typed from it: `args` from its parameters,
 * results from its return type.
 */
// deno-lint-ignore no-explicit-any
export type TaskFunction = (...args: any[]) => unknown;

/**
 * An item of a `map` of `F`: its first parameter (anything, for a function
 * that takes none: the item is passed and ignored).
 */
export type MapItem<F extends TaskFunction> = Parameters<F> extends [] ? unknown
  : Parameters<F>[0];

/** Per-call options every pool takes. */
export interface PoolCallOptions<T> {
  /** Called once with the result. */
  callback?: (result: T) => void;
  /** Called once with the error. */
  errorCallback?: (error: unknown) => void;
  /** Cancels a queued task (it never runs) or fails a running one. */
  signal?: AbortSignal;
  /** URL of the module exporting the function, for this call. */
  module?: string | URL;
}

/** Per-call options of the map family every pool takes. */
export interface PoolMapOptions<T> extends PoolCallOptions<T> {
  /** Items per task. */
  chunksize?: number;
  /**
   * Called once per settled chunk with the items settled so far (`done`)
   * and the input's length (`total`: undefined for an input of unknown
   * length, such as a generator); the last call has `done === total`. A
   * failed chunk of an `imap` counts as settled.
   */
  onProgress?: (done: number, total: number | undefined) => void;
  /**
   * Draw a progress bar (count, rate, ETA) on stderr while the map runs,
   * when stderr is a terminal; nothing otherwise.
   * @default {false}
   */
  progress?: boolean;
}

/**
 * What every pool does: Python's `Pool` API in JavaScript's idiom. The local
 * `Pool` (processes or workers on this machine) and `Cluster.pool()` (worker
 * agents on any number of hosts) both implement it.
 *
 * @example Code that runs on either pool
 * ```ts
 * import type { PoolLike } from "@mp/multiprocessing/pool";
 *
 * export function square(x: number): number {
 *   return x * x;
 * }
 *
 * export async function squares(pool: PoolLike, n: number): Promise<number[]> {
 *   return await pool.map(square, Array.from({ length: n }, (_, i) => i));
 * }
 * ```
 */
export interface PoolLike extends AsyncDisposable {
  /** Runs `fn(...args)` once; the result comes back as an {@link AsyncResult}. */
  applyAsync<F extends TaskFunction>(
    fn: F,
    args?: Readonly<Parameters<F>>,
    options?: PoolCallOptions<Awaited<ReturnType<F>>>,
  ): AsyncResult<Awaited<ReturnType<F>>>;
  /** Runs `fn(...args)` once and resolves its result. */
  apply<F extends TaskFunction>(
    fn: F,
    args?: Readonly<Parameters<F>>,
    options?: PoolCallOptions<Awaited<ReturnType<F>>>,
  ): Promise<Awaited<ReturnType<F>>>;
  /** `map` that returns an {@link AsyncResult} of the list of results. */
  mapAsync<F extends TaskFunction>(
    fn: F,
    iterable: Iterable<MapItem<F>>,
    options?: PoolMapOptions<Awaited<ReturnType<F>>[]>,
  ): AsyncResult<Awaited<ReturnType<F>>[]>;
  /** Applies `fn` to every item; results in input order. */
  map<F extends TaskFunction>(
    fn: F,
    iterable: Iterable<MapItem<F>>,
    options?: PoolMapOptions<Awaited<ReturnType<F>>[]>,
  ): Promise<Awaited<ReturnType<F>>[]>;
  /** `starmap` that returns an {@link AsyncResult}. */
  starmapAsync<F extends TaskFunction>(
    fn: F,
    iterable: Iterable<Readonly<Parameters<F>>>,
    options?: PoolMapOptions<Awaited<ReturnType<F>>[]>,
  ): AsyncResult<Awaited<ReturnType<F>>[]>;
  /** Like `map`, with each item spread as the arguments. */
  starmap<F extends TaskFunction>(
    fn: F,
    iterable: Iterable<Readonly<Parameters<F>>>,
    options?: PoolMapOptions<Awaited<ReturnType<F>>[]>,
  ): Promise<Awaited<ReturnType<F>>[]>;
  /** Results of `fn` over the items, in order, as they come. */
  imap<F extends TaskFunction>(
    fn: F,
    iterable: Iterable<MapItem<F>> | AsyncIterable<MapItem<F>>,
    options?: PoolMapOptions<never>,
  ): AsyncIterableIterator<Awaited<ReturnType<F>>>;
  /** Like `imap`, yielding each result as soon as it is ready. */
  imapUnordered<F extends TaskFunction>(
    fn: F,
    iterable: Iterable<MapItem<F>> | AsyncIterable<MapItem<F>>,
    options?: PoolMapOptions<never>,
  ): AsyncIterableIterator<Awaited<ReturnType<F>>>;
  /** No more tasks; those submitted still run. Idempotent. */
  close(): void;
  /** Stops now: tasks not yet done fail. Idempotent. */
  terminate(): void;
  /** Waits until the pool has wound down after `close()` or `terminate()`. */
  join(): Promise<void>;
}
