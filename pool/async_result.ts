/**
 * `AsyncResult`: Python's handle on a pool task, awaitable in JavaScript.
 *
 * @module
 */

import { raceTimer } from "../_internal/base/async.ts";

/**
 * The eventual result of a pool task, as Python's `AsyncResult`; also a
 * thenable, so `await pool.applyAsync(...)` gives the value.
 *
 * @typeParam T The task's result.
 *
 * @example
 * ```ts
 * import { Pool } from "../pool.ts";
 * import { assertEquals } from "@std/assert";
 *
 * const module = new URL("../tests/fixtures/pool_targets.ts", import.meta.url).href;
 * const { square } = await import(module);
 * await using pool = new Pool({ processes: 1, module });
 * const result = pool.applyAsync(square, [4]);
 * assertEquals(await result.get(5000), 16);
 * assertEquals(result.ready(), true);
 * ```
 */
export class AsyncResult<T> implements PromiseLike<T> {
  #promise: Promise<T>;
  #settled: { ok: true; value: T } | { ok: false; error: unknown } | undefined;

  /**
   * Made by the pool.
   *
   * @ignore
   */
  constructor(promise: Promise<T>) {
    this.#promise = promise;
    promise.then(
      (value) => (this.#settled = { ok: true, value }),
      (error) => (this.#settled = { ok: false, error }),
    );
  }

  /**
   * The result, waiting up to `timeout` ms for it.
   *
   * @throws {DOMException} `TimeoutError` after `timeout` (the task goes on).
   * @throws The task's error when it failed.
   */
  get(timeout?: number): Promise<T> {
    return raceTimer(this.#promise, timeout, () => {
      throw new DOMException(
        `Timed out after ${timeout} ms waiting for the result`,
        "TimeoutError",
      );
    });
  }

  /** Resolves once the result is there, or after `timeout` ms; never rejects. */
  async wait(timeout?: number): Promise<void> {
    await this.get(timeout).catch(() => {});
  }

  /** Whether the task has finished. */
  ready(): boolean {
    return this.#settled !== undefined;
  }

  /**
   * Whether the task finished without an error.
   *
   * @throws {Error} When it has not finished yet (Python's `ValueError`).
   */
  successful(): boolean {
    if (!this.#settled) throw new Error("Cannot tell whether the task succeeded: it is not ready");
    return this.#settled.ok;
  }

  /** Makes the result awaitable. */
  then<R1 = T, R2 = never>(
    onfulfilled?: ((value: T) => R1 | PromiseLike<R1>) | null,
    onrejected?: ((reason: unknown) => R2 | PromiseLike<R2>) | null,
  ): Promise<R1 | R2> {
    return this.#promise.then(onfulfilled, onrejected);
  }
}
