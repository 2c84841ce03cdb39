/**
 * `Lock` and `RLock`: Python's process locks, over shared memory.
 *
 * @module
 */

import { type Descriptor, type PackContext, registerReviver } from "../_internal/hub/handles.ts";
import { TO_DESCRIPTOR } from "../_internal/base/symbols.ts";
import { LockCore } from "../_internal/primitives/lock_core.ts";
import { linkFrom, SyncLink } from "../_internal/primitives/sync_link.ts";
import {
  acquireLock,
  type AcquireOptions,
  acquireOptions,
  direct,
  LINKS,
  releaseRemote,
  RESOLVED,
  REVIVE,
  type Revive,
  revived,
  timeoutError,
  TRUE,
  type WaitOptions,
  waitOptions,
} from "./_common.ts";

/**
 * A non-recursive lock shared between processes, as Python's
 * `multiprocessing.Lock`: any process may release it.
 *
 * @example Timed acquire
 * ```ts
 * import { Lock } from "@mp/multiprocessing/synchronize";
 * import { assertEquals } from "@std/assert";
 *
 * await using lock = new Lock();
 * assertEquals(await lock.acquire(), true);
 * assertEquals(await lock.acquire({ timeout: 10 }), false);
 * await lock.release();
 * ```
 */
export class Lock {
  #link: SyncLink;

  /** Creates a free lock hosted by this process. */
  constructor() {
    this.#link = revived(arguments[0]) ??
      new SyncLink(new LockCore(new.target === RLock));
    LINKS.set(this, this.#link);
  }

  /**
   * Takes the lock, waiting for it unless told not to, as Python's
   * `acquire(block=True, timeout=None)`: `acquire(false)` answers at once,
   * `acquire(true, 1000)` or `acquire({ timeout: 1000 })` waits at most a
   * second.
   *
   * @param block `false` not to wait, or the timeout in ms, or the options
   * (`block`, `timeout`, `signal`).
   * @param timeout With a boolean `block`: the timeout in ms, or the options.
   * @returns Whether it was taken: `false` when not waiting or after the
   * timeout.
   * @throws {RangeError} On a negative timeout.
   * @throws {TypeError} On an unknown option.
   * @throws The signal's reason once it aborts the wait.
   */
  acquire(
    block?: boolean | number | AcquireOptions,
    timeout?: number | AcquireOptions,
  ): Promise<boolean> {
    const link = this.#link;
    // The uncontended case costs one compare-and-swap.
    if (block === undefined && timeout === undefined && !link.viaHost && link.core) {
      if ((link.core as LockCore).tryAcquire(link.owner)) return TRUE;
    }
    try {
      return acquireLock(this.#link, acquireOptions("acquire lock", block, timeout));
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /**
   * Lets the lock go.
   *
   * @throws {RangeError} When it is not acquired.
   */
  release(): Promise<void> {
    const core = direct<LockCore>(this.#link);
    if (!core) return releaseRemote(this.#link);
    try {
      core.release(this.#link.owner);
      return RESOLVED;
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /**
   * Takes the lock and resolves a guard that releases it when disposed:
   * `await using held = await lock.guard();`.
   *
   * @param options A timeout in ms, or `{ timeout, signal }`; no limit when left out.
   * @returns A guard that releases the lock when disposed.
   * @throws {DOMException} `TimeoutError` when not taken within `timeout`.
   * @throws `signal.reason` once `signal` is aborted.
   */
  async guard(options?: number | WaitOptions): Promise<AsyncDisposable> {
    const o = waitOptions("acquire lock", options);
    if (!await this.acquire(o)) throw timeoutError("acquire lock", o);
    return { [Symbol.asyncDispose]: () => this.release() };
  }

  /**
   * Runs `fn` holding the lock, and releases it after, whatever happens.
   *
   * @param fn What to run; it may be async.
   * @param options For taking the lock: a timeout in ms, or
   * `{ timeout, signal }`; no limit when left out.
   * @returns What `fn` returns (awaited).
   * @throws {DOMException} `TimeoutError` when the lock is not taken within
   * `timeout` (`fn` does not run).
   * @throws `signal.reason` once `signal` is aborted (`fn` does not run).
   * @throws What `fn` throws.
   */
  async withLock<T>(fn: () => T | Promise<T>, options?: number | WaitOptions): Promise<T> {
    await using _held = await this.guard(options);
    return await fn();
  }

  /**
   * Describes this handle for another process.
   *
   * @ignore
   */
  [TO_DESCRIPTOR](ctx?: PackContext): Promise<Descriptor> {
    const recursive = this instanceof RLock;
    return this.#link.describe("lock", ctx, { recursive });
  }

  /** In the creating process: stops serving the lock to other processes. */
  [Symbol.asyncDispose](): Promise<void> {
    this.#link.release();
    return Promise.resolve();
  }
}

/**
 * A recursive lock, as Python's `multiprocessing.RLock`: the process that
 * holds it may take it again, and must release it as many times.
 *
 * @example Take a lock twice in one process
 * ```ts
 * import { RLock } from "@mp/multiprocessing/synchronize";
 * import { assertEquals } from "@std/assert";
 *
 * await using lock = new RLock();
 * await lock.acquire();
 * assertEquals(await lock.acquire({ block: false }), true);
 * await lock.release();
 * await lock.release();
 * ```
 */
export class RLock extends Lock {}

registerReviver("lock", (d) => {
  const link = linkFrom(d, (ia) => new LockCore(d.extra?.recursive === true, ia));
  const Cls = d.extra?.recursive ? RLock : Lock;
  return new (Cls as new (r: Revive) => Lock)({ [REVIVE]: link });
});
