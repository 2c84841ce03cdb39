/**
 * `Condition`: Python's process condition variable, over a lock.
 *
 * @module
 */

import {
  describe,
  type Descriptor,
  type PackContext,
  registerReviver,
  reviveKind,
} from "../_internal/hub/handles.ts";
import { TO_DESCRIPTOR } from "../_internal/base/symbols.ts";
import { ConditionCore } from "../_internal/primitives/condition_core.ts";
import type { LockCore } from "../_internal/primitives/lock_core.ts";
import { deadlineFor, myOwner } from "../_internal/primitives/sync_wait.ts";
import { linkFrom, SyncLink } from "../_internal/primitives/sync_link.ts";
import {
  type AcquireOptions,
  direct,
  left,
  LINKS,
  REVIVE,
  type WaitOptions,
  waitOptions,
} from "./_common.ts";
import { type Lock, RLock } from "./lock.ts";

/**
 * A condition variable over a lock, as Python's
 * `multiprocessing.Condition`: holders of the lock wait for a notify from
 * another process.
 *
 * Ownership is per process: two async functions of one process that use a
 * condition between themselves need it over a {@link Lock}, since the
 * default {@link RLock} lets the second in while the first holds it.
 *
 * @example Wait for a predicate
 * ```ts
 * import { Condition, Lock } from "@mp/multiprocessing/synchronize";
 * import { assertEquals } from "@std/assert";
 *
 * await using cond = new Condition(new Lock());
 * let ready = false;
 * const waiter = cond.withLock(() => cond.waitFor(() => ready, 1000));
 * await cond.withLock(async () => {
 *   ready = true;
 *   await cond.notify();
 * });
 * assertEquals(await waiter, true);
 * ```
 */
export class Condition {
  #lock: Lock;
  #link: SyncLink;
  #ownsLock = false;

  /**
   * Creates a condition over a lock.
   *
   * @param lock The lock; a new {@link RLock} when left out.
   * @throws {TypeError} When `lock` was not created in this process or
   * shared with it as memory (a worker child's).
   */
  constructor(lock?: Lock) {
    const from = (lock as unknown as { [REVIVE]?: [Lock, SyncLink] })?.[REVIVE];
    if (from) {
      [this.#lock, this.#link] = from;
      return;
    }
    this.#lock = lock ?? new RLock();
    this.#ownsLock = lock === undefined;
    const core = direct<LockCore>(LINKS.get(this.#lock)!);
    if (!core) {
      throw new TypeError(
        "Cannot create condition: its lock must be created in this process (or be shared memory)",
      );
    }
    this.#link = new SyncLink(new ConditionCore(core));
  }

  /**
   * Takes the condition's lock (see {@link Lock.acquire}).
   *
   * @param block `false` not to wait, or the timeout in ms, or the options.
   * @param timeout With a boolean `block`: the timeout in ms, or the options.
   * @returns Whether it was taken.
   * @throws {RangeError} On a negative timeout.
   */
  acquire(
    block?: boolean | number | AcquireOptions,
    timeout?: number | AcquireOptions,
  ): Promise<boolean> {
    return this.#lock.acquire(block, timeout);
  }

  /** Lets the condition's lock go. */
  release(): Promise<void> {
    return this.#lock.release();
  }

  /**
   * Takes the lock; the guard releases it (see {@link Lock.guard}).
   *
   * @param options A timeout in ms, or `{ timeout, signal }`; no limit when left out.
   * @returns A guard that releases the lock when disposed.
   * @throws {DOMException} `TimeoutError` when not taken within `timeout`.
   */
  guard(options?: number | WaitOptions): Promise<AsyncDisposable> {
    return this.#lock.guard(options);
  }

  /**
   * Runs `fn` holding the lock (see {@link Lock.withLock}).
   *
   * @param fn What to run; it may be async.
   * @param options For taking the lock: a timeout in ms, or
   * `{ timeout, signal }`; no limit when left out.
   * @returns What `fn` returns (awaited).
   */
  withLock<T>(fn: () => T | Promise<T>, options?: number | WaitOptions): Promise<T> {
    return this.#lock.withLock(fn, options);
  }

  /**
   * Releases the lock, waits for a notify, and takes the lock back. On
   * abort it rejects with the signal's reason, without the lock.
   *
   * @param options A timeout in ms, or `{ timeout, signal }`; no limit when left out.
   * @returns Whether it was notified (false after a timeout, the lock held
   * again).
   * @throws {ProcessError} When this process does not hold the lock.
   */
  async wait(options?: number | WaitOptions): Promise<boolean> {
    const o = waitOptions("wait on condition", options);
    const deadline = deadlineFor("wait on condition", o);
    const core = direct<ConditionCore>(this.#link);
    if (core) return await core.wait(myOwner(), deadline, o.signal);
    const owner = myOwner();
    const ref = this.#link.ref();
    return await ref.call("wait", [owner, left(deadline)], {
      signal: o.signal,
      // Woken and relocked after the caller gave up: an aborted wait ends unlocked.
      onOrphan: () => ref.send("releaseAll", [owner]),
    }) as boolean;
  }

  /**
   * Waits until `predicate()` is truthy, checking it first and at each
   * notify. Call it holding the lock, as {@link Condition.wait}.
   *
   * @param predicate What to wait for.
   * @param options A timeout in ms, or `{ timeout, signal }`; no limit when left out.
   * @returns The predicate's last value (falsy after a timeout).
   */
  async waitFor<T>(predicate: () => T, options?: number | WaitOptions): Promise<T> {
    const o = waitOptions("wait on condition", options);
    const deadline = deadlineFor("wait on condition", o);
    let result = predicate();
    while (!result) {
      const timeout = left(deadline);
      if (timeout === 0) break;
      await this.wait({ timeout: timeout ?? undefined, signal: o.signal });
      result = predicate();
    }
    return result;
  }

  /**
   * Wakes up to `n` waiters.
   *
   * @param n How many waiters to wake at most; 1 when left out.
   * @throws {RangeError} When `n` is not a non-negative integer.
   * @throws {ProcessError} When this process does not hold the lock.
   */
  async notify(n = 1): Promise<void> {
    if (!Number.isInteger(n) || n < 0) {
      throw new RangeError(`Cannot notify: 'n' must be a non-negative integer, received ${n}`);
    }
    const core = direct<ConditionCore>(this.#link);
    if (core) core.notify(myOwner(), n);
    else await this.#link.call("notify", [myOwner(), n]);
  }

  /** Wakes every waiter. */
  notifyAll(): Promise<void> {
    return this.notify(0x7fffffff);
  }

  /**
   * Describes this handle for another process.
   *
   * @ignore
   */
  async [TO_DESCRIPTOR](ctx?: PackContext): Promise<Descriptor> {
    const lock = await describe(this.#lock, ctx);
    return this.#link.describe("condition", ctx, { lock });
  }

  /**
   * In the creating process: stops serving the condition, and its lock if
   * it made it.
   */
  async [Symbol.asyncDispose](): Promise<void> {
    this.#link.release();
    if (this.#ownsLock) await this.#lock[Symbol.asyncDispose]();
  }
}

registerReviver("condition", async (d) => {
  const lock = await reviveKind(d.extra?.lock, "lock") as Lock;
  const lockCore = direct<LockCore>(LINKS.get(lock)!);
  const link = linkFrom(d, (ia) => new ConditionCore(lockCore!, ia));
  const token = { [REVIVE]: [lock, lockCore ? link : new SyncLink(undefined, link.ref())] };
  return new Condition(token as unknown as Lock);
});
