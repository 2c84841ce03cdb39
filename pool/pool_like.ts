/**
 * The pool API as an interface: what the local `Pool` and the cluster's pool
 * both implement, so that code written against one runs on the other. It
 * sits below both (it imports only `AsyncResult`), so neither imports the
 * other for it.
 *
 * @module
 */

import type { AsyncResult } from "./async_result.ts";

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
  applyAsync<T>(
    fn: (...args: never[]) => T | Promise<T>,
    args?: unknown[],
    options?: PoolCallOptions<Awaited<T>>,
  ): AsyncResult<Awaited<T>>;
  /** Runs `fn(...args)` once and resolves its result. */
  apply<T>(
    fn: (...args: never[]) => T | Promise<T>,
    args?: unknown[],
    options?: PoolCallOptions<Awaited<T>>,
  ): Promise<Awaited<T>>;
  /** `map` that returns an {@link AsyncResult} of the list of results. */
  mapAsync<T, R>(
    fn: (item: T) => R | Promise<R>,
    iterable: Iterable<T>,
    options?: PoolMapOptions<Awaited<R>[]>,
  ): AsyncResult<Awaited<R>[]>;
  /** Applies `fn` to every item; results in input order. */
  map<T, R>(
    fn: (item: T) => R | Promise<R>,
    iterable: Iterable<T>,
    options?: PoolMapOptions<Awaited<R>[]>,
  ): Promise<Awaited<R>[]>;
  /** `starmap` that returns an {@link AsyncResult}. */
  starmapAsync<R>(
    fn: (...args: never[]) => R | Promise<R>,
    iterable: Iterable<unknown[]>,
    options?: PoolMapOptions<Awaited<R>[]>,
  ): AsyncResult<Awaited<R>[]>;
  /** Like `map`, with each item spread as the arguments. */
  starmap<R>(
    fn: (...args: never[]) => R | Promise<R>,
    iterable: Iterable<unknown[]>,
    options?: PoolMapOptions<Awaited<R>[]>,
  ): Promise<Awaited<R>[]>;
  /** Results of `fn` over the items, in order, as they come. */
  imap<T, R>(
    fn: (item: T) => R | Promise<R>,
    iterable: Iterable<T> | AsyncIterable<T>,
    options?: PoolMapOptions<never>,
  ): AsyncGenerator<Awaited<R>>;
  /** Like `imap`, yielding each result as soon as it is ready. */
  imapUnordered<T, R>(
    fn: (item: T) => R | Promise<R>,
    iterable: Iterable<T> | AsyncIterable<T>,
    options?: PoolMapOptions<never>,
  ): AsyncGenerator<Awaited<R>>;
  /** No more tasks; those submitted still run. Idempotent. */
  close(): void;
  /** Stops now: tasks not yet done fail. Idempotent. */
  terminate(): void;
  /** Waits until the pool has wound down after `close()` or `terminate()`. */
  join(): Promise<void>;
}
