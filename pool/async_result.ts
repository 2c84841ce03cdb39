/**
 * `AsyncResult`: Python's handle on a pool task, awaitable in JavaScript.
 *
 * @module
 */

import { abortable, raceTimer } from "../_internal/base/async.ts";
import { timedWait, type WaitOptions } from "../_internal/base/waits.ts";
import { awaitSited } from "../_internal/base/call_site.ts";

/**
 * The eventual result of a pool task, as Python's `AsyncResult`; also a
 * thenable, so `await pool.applyAsync(...)` gives the value.
 *
 * @typeParam T The task's result.
 *
 * @example Wait for one result with a timeout
 * ```ts
 * import { Pool } from "@mp/multiprocessing/pool";
 * import { square } from "@mp/multiprocessing/targets";
 * import { assertEquals } from "@std/assert";
 *
 * const module = import.meta.resolve("@mp/multiprocessing/targets");
 * await using pool = new Pool({ processes: 1, module });
 * const result = pool.applyAsync(square, [4]);
 * assertEquals(await result.get(5000), 16);
 * assertEquals(result.ready(), true);
 * ```
 */
export class AsyncResult<T> implements PromiseLike<T> {
  #promise: Promise<T>;
  #settled: { ok: true; value: T } | { ok: false; error: unknown } | undefined;
  /** Whether an error is the caller's own; absent: errors are given no call site here. */
  #own: ((err: unknown) => boolean) | undefined;

  /**
   * Made by the pool.
   *
   * @ignore
   */
  constructor(promise: Promise<T>, own?: (err: unknown) => boolean) {
    this.#promise = promise;
    this.#own = own;
    promise.then(
      (value) => (this.#settled = { ok: true, value }),
      (error) => (this.#settled = { ok: false, error }),
    );
  }

  /**
   * The result, waiting up to `timeout` ms for it.
   *
   * @param options Milliseconds to wait at most (for ever when absent), or
   * `{ timeout, signal }`.
   * @returns The task's result.
   * @throws {DOMException} `TimeoutError` after `timeout` (the task goes on).
   * @throws The task's error when it failed.
   * @throws The signal's reason once it aborts the wait (the task goes on).
   * @throws {RangeError} On a negative timeout.
   */
  get(options?: number | WaitOptions): Promise<T> {
    let timeout: number | undefined, signal: AbortSignal | undefined;
    try {
      ({ timeout, signal } = timedWait("get the result", options));
    } catch (err) {
      return Promise.reject(err);
    }
    const own = this.#own;
    if (timeout === undefined && signal === undefined) return this.#sited(this.#promise);
    const timed = raceTimer(this.#promise, timeout, () => {
      throw new DOMException(
        `Timed out after ${timeout} ms waiting for the result`,
        "TimeoutError",
      );
    });
    const waited = abortable(timed, signal);
    return own ? awaitSited(waited, (err) => err === signal?.reason || own(err)) : waited;
  }

  /**
   * Waits until the result is there, or `timeout` ms have passed.
   *
   * @param options Milliseconds to wait at most (for ever when absent), or
   * `{ timeout, signal }`.
   * @returns Resolves either way (a failed task too): check {@link AsyncResult.ready}.
   * @throws The signal's reason once it aborts the wait.
   * @throws {RangeError} On a negative timeout.
   */
  async wait(options?: number | WaitOptions): Promise<void> {
    const { timeout, signal } = timedWait("wait for the result", options);
    const settled = this.#promise.then(() => {}, () => {});
    await abortable(raceTimer(settled, timeout, () => undefined), signal);
  }

  /**
   * Whether the task has finished.
   *
   * @returns True once it has succeeded or failed.
   */
  ready(): boolean {
    return this.#settled !== undefined;
  }

  /**
   * Whether the task finished without an error.
   *
   * @returns True when it succeeded, false when it failed.
   * @throws {Error} When it has not finished yet (Python's `ValueError`).
   */
  successful(): boolean {
    if (!this.#settled) throw new Error("Cannot tell whether the task succeeded: it is not ready");
    return this.#settled.ok;
  }

  /**
   * Makes the result awaitable: `await result` is `await result.get()`.
   *
   * @param onfulfilled Called with the result.
   * @param onrejected Called with the task's error (a local pool's: its
   * stack, then the awaiting code's after `Submitted at:`).
   * @returns A promise of what the callback returns.
   */
  then<R1 = T, R2 = never>(
    onfulfilled?: ((value: T) => R1 | PromiseLike<R1>) | null,
    onrejected?: ((reason: unknown) => R2 | PromiseLike<R2>) | null,
  ): Promise<R1 | R2> {
    return this.#sited(this.#promise).then(onfulfilled, onrejected);
  }

  /** `p`, whose error gets the awaiting code's site (see `awaitSited`). */
  #sited<V>(p: Promise<V>): Promise<V> {
    return this.#own ? awaitSited(p, this.#own) : p;
  }
}
