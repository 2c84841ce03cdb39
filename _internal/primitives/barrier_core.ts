/**
 * The barrier algorithm over shared memory (see `lock_core.ts`).
 *
 * @module
 */

import { BrokenBarrierError } from "../base/errors.ts";
import { waitChange, wakeAll } from "./sync_wait.ts";
import { LockCore } from "./lock_core.ts";

const B_COUNT = 5;

const B_GEN = 6;

const B_BROKEN = 7;

const B_BITS = 8;

const B_PARTIES = 9;

/**
 * Words `[mutex (5 words), count, generation, broken, bits, parties]`. Each pass of the barrier is a generation; bit `gen % 32` of
 * `bits` tells a waiter that wakes late whether its generation broke.
 */
export class BarrierCore {
  readonly ia: Int32Array;
  #mutex: LockCore;

  /** A barrier for `parties`; `ia` made fresh when absent. */
  constructor(parties: number, ia?: Int32Array) {
    this.ia = ia ?? new Int32Array(new SharedArrayBuffer(40));
    if (!ia) this.ia[B_PARTIES] = parties;
    this.#mutex = new LockCore(false, this.ia);
  }

  get parties(): number {
    return this.ia[B_PARTIES];
  }

  /**
   * Waits for every party; resolves this party's arrival index (0 for the
   * first, `parties - 1` for the last, which runs `action`). A timeout or an
   * abort breaks the barrier.
   */
  async wait(
    owner: number,
    deadline: number | null,
    signal?: AbortSignal,
    action?: () => unknown,
  ): Promise<number> {
    await this.#mutex.acquire(owner, null);
    let index: number, gen: number;
    try {
      if (this.ia[B_BROKEN]) throw new BrokenBarrierError();
      index = this.ia[B_COUNT];
      gen = this.ia[B_GEN];
      if (index + 1 === this.parties) {
        try {
          await action?.();
        } catch (err) {
          this.#break();
          throw err;
        }
        this.#advance(false);
        return index;
      }
      this.ia[B_COUNT] = index + 1;
    } finally {
      this.#mutex.release(owner);
    }
    let passed: boolean;
    try {
      passed = await waitChange(this.ia, B_GEN, gen, deadline, signal);
    } catch (err) {
      await this.#breakGeneration(owner, gen);
      throw err;
    }
    if (!passed) await this.#breakGeneration(owner, gen);
    if (this.#brokeAt(gen)) throw new BrokenBarrierError();
    return index;
  }

  #brokeAt(gen: number): boolean {
    return (Atomics.load(this.ia, B_BITS) & (1 << (gen & 31))) !== 0;
  }

  /** Ends this generation (under the mutex): passed, or broken. */
  #advance(broken: boolean): void {
    const gen = this.ia[B_GEN];
    const bit = 1 << (gen & 31);
    const next = (gen + 1) | 0;
    let bits = broken ? this.ia[B_BITS] | bit : this.ia[B_BITS] & ~bit;
    bits &= ~(1 << (next & 31));
    Atomics.store(this.ia, B_BITS, bits);
    this.ia[B_COUNT] = 0;
    Atomics.store(this.ia, B_GEN, next);
    wakeAll(this.ia, B_GEN);
  }

  #break(): void {
    this.ia[B_BROKEN] = 1;
    this.#advance(true);
  }

  async #breakGeneration(owner: number, gen: number): Promise<void> {
    await this.#mutex.acquire(owner, null);
    try {
      if (this.ia[B_GEN] === gen) this.#break();
    } finally {
      this.#mutex.release(owner);
    }
  }

  /** Breaks the barrier: waiters and later arrivals reject until reset. */
  async abort(owner: number): Promise<void> {
    await this.#mutex.acquire(owner, null);
    try {
      this.#break();
    } finally {
      this.#mutex.release(owner);
    }
  }

  /** Back to empty and unbroken; current waiters reject. */
  async reset(owner: number): Promise<void> {
    await this.#mutex.acquire(owner, null);
    try {
      if (this.ia[B_COUNT] > 0) this.#advance(true);
      this.ia[B_BROKEN] = 0;
      this.ia[B_COUNT] = 0;
    } finally {
      this.#mutex.release(owner);
    }
  }

  /** Parties waiting now. */
  nWaiting(): number {
    return this.ia[B_BROKEN] ? 0 : Atomics.load(this.ia, B_COUNT);
  }

  /** Whether the barrier is broken. */
  broken(): boolean {
    return Atomics.load(this.ia, B_BROKEN) === 1;
  }
}
