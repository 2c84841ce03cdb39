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
} from "./_common.ts";

/**
 * A non-recursive lock shared between processes, as Python's
 * `multiprocessing.Lock`: any process may release it.
 *
 * @example Timed acquire
 * ```ts
 * import { Lock } from "../synchronize.ts";
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
   * Takes the lock, waiting for it unless told not to; resolves whether it
   * was taken.
   *
   * @throws {RangeError} On a negative timeout.
   */
  acquire(options: AcquireOptions = {}): Promise<boolean> {
    const link = this.#link;
    // The uncontended case costs one compare-and-swap.
    if (!link.viaHost && options.timeout === undefined && link.core) {
      if ((link.core as LockCore).tryAcquire(link.owner)) return TRUE;
    }
    return acquireLock(this.#link, options);
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
   * @throws {DOMException} `TimeoutError` when not taken within `timeout`.
   */
  async guard(options: WaitOptions = {}): Promise<AsyncDisposable> {
    if (!await this.acquire(options)) throw timeoutError("acquire lock", options);
    return { [Symbol.asyncDispose]: () => this.release() };
  }

  /** Runs `fn` holding the lock, and releases it after, whatever happens. */
  async withLock<T>(fn: () => T | Promise<T>, options: WaitOptions = {}): Promise<T> {
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
 * @example
 * ```ts
 * import { RLock } from "../synchronize.ts";
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
