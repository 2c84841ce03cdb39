/**
 * The semaphore algorithm over shared memory (see `lock_core.ts`).
 *
 * @module
 */

import { waitChange, wakeAll } from "./sync_wait.ts";

const VALUE = 0;

const MAX = 1;

/** Words `[value, max]`; max -1 when unbounded. */
export class SemaphoreCore {
  readonly ia: Int32Array;

  /** A semaphore at `value`, bounded by it when `bounded`. */
  constructor(value: number, bounded: boolean, ia?: Int32Array) {
    this.ia = ia ?? new Int32Array(new SharedArrayBuffer(8));
    if (!ia) {
      this.ia[VALUE] = value;
      this.ia[MAX] = bounded ? value : -1;
    }
  }

  /** Decrements if positive. */
  tryAcquire(): boolean {
    while (true) {
      const v = Atomics.load(this.ia, VALUE);
      if (v <= 0) return false;
      if (Atomics.compareExchange(this.ia, VALUE, v, v - 1) === v) return true;
    }
  }

  /** Decrements, waiting until the deadline for it to be positive. */
  async acquire(deadline: number | null, signal?: AbortSignal): Promise<boolean> {
    while (true) {
      if (this.tryAcquire()) return true;
      if (!await waitChange(this.ia, VALUE, 0, deadline, signal)) return this.tryAcquire();
    }
  }

  /** Increments by `n`; a bounded semaphore refuses to pass its start value. */
  release(n: number): void {
    const max = this.ia[MAX];
    while (true) {
      const v = Atomics.load(this.ia, VALUE);
      if (max >= 0 && v + n > max) {
        throw new RangeError("Cannot release semaphore: it was released too many times");
      }
      if (Atomics.compareExchange(this.ia, VALUE, v, v + n) === v) break;
    }
    wakeAll(this.ia, VALUE);
  }

  /** The current value. */
  value(): number {
    return Atomics.load(this.ia, VALUE);
  }
}
