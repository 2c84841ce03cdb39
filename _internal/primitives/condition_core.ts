/**
 * The condition-variable algorithm over shared memory, beside a lock (see
 * `lock_core.ts`).
 *
 * @module
 */

import { ProcessError } from "../base/errors.ts";
import { waitChange, wakeAll } from "./sync_wait.ts";
import type { LockCore } from "./lock_core.ts";

const WAITERS = 0;

const TOKENS = 1;

/**
 * Words `[waiters, tokens]` beside a lock. A notify moves up to `n`
 * waiters to tokens; a waiter leaves by taking a token (notified) or, on
 * timeout, by taking itself off the waiters (or, if a notify already
 * counted it, a token after all).
 */
export class ConditionCore {
  readonly ia: Int32Array;
  readonly lock: LockCore;

  /** A condition over `lock`; `ia` made fresh when absent. */
  constructor(lock: LockCore, ia: Int32Array = new Int32Array(new SharedArrayBuffer(8))) {
    this.lock = lock;
    this.ia = ia;
  }

  #mustOwn(owner: number, what: string): void {
    if (this.lock.owner() !== owner) {
      throw new ProcessError(`Cannot ${what} condition: its lock is not acquired by this process`);
    }
  }

  /**
   * Releases the lock, waits for a notify until the deadline, and takes the
   * lock back; resolves whether it was notified. On abort it rejects
   * without the lock.
   */
  async wait(owner: number, deadline: number | null, signal?: AbortSignal): Promise<boolean> {
    this.#mustOwn(owner, "wait on");
    Atomics.add(this.ia, WAITERS, 1);
    const depth = this.lock.releaseAll(owner);
    let notified = false;
    try {
      while (!(notified = this.#takeToken())) {
        if (!await waitChange(this.ia, TOKENS, 0, deadline, signal)) break;
      }
    } catch (err) {
      this.#leave();
      throw err;
    }
    if (!notified) notified = this.#leave();
    await this.lock.restore(owner, depth);
    return notified;
  }

  #takeToken(): boolean {
    while (true) {
      const t = Atomics.load(this.ia, TOKENS);
      if (t <= 0) return false;
      if (Atomics.compareExchange(this.ia, TOKENS, t, t - 1) === t) return true;
    }
  }

  /** A waiter that gives up: true when a notify had counted it already. */
  #leave(): boolean {
    while (true) {
      const w = Atomics.load(this.ia, WAITERS);
      if (w > 0) {
        if (Atomics.compareExchange(this.ia, WAITERS, w, w - 1) === w) return false;
      } else if (this.#takeToken()) {
        return true;
      }
      // A notify is between its two steps on another thread: a token is
      // about to appear.
    }
  }

  /** Wakes up to `n` waiters. */
  notify(owner: number, n: number): void {
    this.#mustOwn(owner, "notify on");
    let give: number;
    while (true) {
      const w = Atomics.load(this.ia, WAITERS);
      give = Math.min(n, w);
      if (Atomics.compareExchange(this.ia, WAITERS, w, w - give) === w) break;
    }
    if (give > 0) {
      Atomics.add(this.ia, TOKENS, give);
      wakeAll(this.ia, TOKENS);
    }
  }

  /** Wakes every waiter. */
  notifyAll(owner: number): void {
    this.notify(owner, 0x7fffffff);
  }
}
