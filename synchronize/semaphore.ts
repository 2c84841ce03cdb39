/**
 * `Semaphore` and `BoundedSemaphore`: Python's process semaphores, over
 * shared memory.
 *
 * @module
 */

import { type Descriptor, type PackContext, registerReviver } from "../_internal/hub/handles.ts";
import { TO_DESCRIPTOR } from "../_internal/base/symbols.ts";
import { SemaphoreCore } from "../_internal/primitives/semaphore_core.ts";
import { deadlineFor } from "../_internal/primitives/sync_wait.ts";
import { linkFrom, SyncLink } from "../_internal/primitives/sync_link.ts";
import { type AcquireOptions, acquireOptions, direct, left, REVIVE, revived } from "./_common.ts";

/**
 * A counting semaphore, as Python's `multiprocessing.Semaphore`.
 *
 * @example Two at a time
 * ```ts
 * import { Semaphore } from "@mp/multiprocessing/synchronize";
 * import { assertEquals } from "@std/assert";
 *
 * await using sem = new Semaphore(2);
 * await sem.acquire();
 * await sem.acquire();
 * assertEquals(await sem.acquire({ timeout: 5 }), false);
 * await sem.release();
 * assertEquals(await sem.getValue(), 1);
 * ```
 */
export class Semaphore {
  #link: SyncLink;

  /**
   * Creates a semaphore.
   *
   * @param value The start value: a non-negative integer; 1 when left out.
   * @throws {RangeError} When `value` is not a non-negative integer.
   */
  constructor(value = 1) {
    const from = revived(value);
    if (from) {
      this.#link = from;
      return;
    }
    if (!Number.isInteger(value) || value < 0 || value > 0x7fffffff) {
      throw new RangeError(
        `Cannot create semaphore: 'value' must be a non-negative integer, received ${value}`,
      );
    }
    this.#link = new SyncLink(new SemaphoreCore(value, new.target === BoundedSemaphore));
  }

  /**
   * Decrements the value, waiting while it is 0 unless told not to, as
   * Python's `acquire(block=True, timeout=None)`.
   *
   * @param block `false` not to wait, or the timeout in ms, or the options
   * (`block`, `timeout`, `signal`).
   * @param timeout With a boolean `block`: the timeout in ms, or the options.
   * @returns Whether it did: `false` when not waiting or after the timeout.
   * @throws {RangeError} On a negative timeout.
   * @throws {TypeError} On an unknown option.
   * @throws The signal's reason once it aborts the wait.
   */
  acquire(
    block?: boolean | number | AcquireOptions,
    timeout?: number | AcquireOptions,
  ): Promise<boolean> {
    const core = direct<SemaphoreCore>(this.#link);
    if (core?.tryAcquire()) return Promise.resolve(true);
    try {
      return this.#acquire(core, acquireOptions("acquire semaphore", block, timeout));
    } catch (err) {
      return Promise.reject(err);
    }
  }

  async #acquire(core: SemaphoreCore | undefined, o: AcquireOptions): Promise<boolean> {
    const deadline = deadlineFor("acquire semaphore", o);
    if (core) return await core.acquire(deadline, o.signal);
    const ref = this.#link.ref();
    return await ref.call("acquire", [left(deadline)], {
      signal: o.signal,
      onOrphan: (v) => v === true && ref.send("release", [1]),
    }) as boolean;
  }

  /**
   * Increments the value by `n`, waking waiters.
   *
   * @param n How much to add: a positive integer; 1 when left out.
   * @throws {RangeError} When `n` is not a positive integer, or for a
   * {@link BoundedSemaphore} released above its start value.
   */
  async release(n = 1): Promise<void> {
    if (!Number.isInteger(n) || n < 1) {
      throw new RangeError(
        `Cannot release semaphore: 'n' must be a positive integer, received ${n}`,
      );
    }
    const core = direct<SemaphoreCore>(this.#link);
    if (core) core.release(n);
    else await this.#link.call("release", [n]);
  }

  /**
   * The current value.
   *
   * @returns The value.
   */
  async getValue(): Promise<number> {
    const core = direct<SemaphoreCore>(this.#link);
    return core ? core.value() : await this.#link.call("value", []) as number;
  }

  /**
   * Describes this handle for another process.
   *
   * @ignore
   */
  [TO_DESCRIPTOR](ctx?: PackContext): Promise<Descriptor> {
    const bounded = this instanceof BoundedSemaphore;
    return this.#link.describe("semaphore", ctx, { bounded });
  }

  /** In the creating process: stops serving the semaphore to other processes. */
  [Symbol.asyncDispose](): Promise<void> {
    this.#link.release();
    return Promise.resolve();
  }
}

/**
 * A semaphore that refuses to be released above its start value, as
 * Python's `multiprocessing.BoundedSemaphore`.
 *
 * @example A release beyond the start value
 * ```ts
 * import { BoundedSemaphore } from "@mp/multiprocessing/synchronize";
 * import { assertRejects } from "@std/assert";
 *
 * await using sem = new BoundedSemaphore(1);
 * await assertRejects(() => sem.release(), RangeError);
 * ```
 */
export class BoundedSemaphore extends Semaphore {}

registerReviver("semaphore", (d) => {
  const link = linkFrom(d, (ia) => new SemaphoreCore(0, false, ia));
  const Cls = d.extra?.bounded ? BoundedSemaphore : Semaphore;
  return new Cls({ [REVIVE]: link } as unknown as number);
});
