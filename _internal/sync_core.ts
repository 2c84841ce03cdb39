/**
 * The synchronization primitives' algorithms, over an `Int32Array` on a
 * `SharedArrayBuffer`. Each process that sees the memory (the creator, its
 * worker children) runs them directly; the creator runs them on behalf of
 * subprocess children (`sync_host.ts`). Who acts is always passed in as an
 * owner number ({@link ownerOf}), never taken from the running process, so
 * the two paths are one code.
 *
 * Wake-ups notify every waiter, who then compete again: slower under heavy
 * contention than a targeted wake, but a waiter that timed out or was
 * aborted can never swallow a wake-up meant for another.
 *
 * @module
 */

import { BrokenBarrierError, ProcessError } from "./errors.ts";
import { waitChange, wakeAll } from "./sync_wait.ts";

const OWNER = 0;
const COUNT = 1;
const WAITING = 2;
const SEQ = 3;
const PENDING = 4;

/**
 * Tries before a contended acquire goes to sleep. The holder is often on
 * another thread, a few instructions from releasing; waking from
 * `Atomics.waitAsync` costs a trip through the event loop (~20 µs).
 */
const SPIN = 100;

/** Every lock made or revived in this isolate, for {@link recoverOwner}. */
const LOCKS = Symbol.for("@mp/multiprocessing.locks");

function locks(): Set<WeakRef<LockCore>> {
  // deno-lint-ignore no-explicit-any
  const g = globalThis as any;
  return g[LOCKS] ??= new Set<WeakRef<LockCore>>();
}

/**
 * Words `[owner, count, waiting, seq]`: owner 0 is free; `count` is the
 * RLock depth; `waiting` counts sleepers, so that a release with none skips
 * the notify; `seq` counts the releases that had sleepers, which sleep on it.
 */
export class LockCore {
  readonly ia: Int32Array;
  readonly recursive: boolean;

  /** Over `ia` (words 0 to 2), made fresh when absent. */
  constructor(recursive: boolean, ia: Int32Array = new Int32Array(new SharedArrayBuffer(20))) {
    this.ia = ia;
    this.recursive = recursive;
    locks().add(new WeakRef(this));
  }

  /** Takes the lock for `owner` if it is free (or already its, recursively). */
  tryAcquire(owner: number): boolean {
    const cur = Atomics.compareExchange(this.ia, OWNER, 0, owner);
    if (cur === 0) {
      // A plain lock's depth is 1 whenever it is held: no need to write it.
      if (this.recursive) Atomics.store(this.ia, COUNT, 1);
      return true;
    }
    if (this.recursive && cur === owner) {
      Atomics.add(this.ia, COUNT, 1);
      return true;
    }
    return false;
  }

  /** Takes the lock, waiting until the deadline; false when it passed. */
  async acquire(owner: number, deadline: number | null, signal?: AbortSignal): Promise<boolean> {
    while (true) {
      for (let i = 0; i < SPIN; i++) {
        if (Atomics.load(this.ia, OWNER) === 0 && this.tryAcquire(owner)) return true;
      }
      // Counted, then the release sequence read, then one more try: a
      // release after that try sees the sleeper and bumps the sequence. The
      // sleeper stays asleep while the holder takes and drops the lock
      // again and again, as a futex waiter does, instead of fighting it for
      // the lock's cache line.
      Atomics.add(this.ia, WAITING, 1);
      const seq = Atomics.load(this.ia, SEQ);
      // A release may have raised PENDING for a sleeper that had already
      // left: cleared here, after the sequence was read, any release from
      // now on either notifies or follows one that bumps the sequence later.
      Atomics.store(this.ia, PENDING, 0);
      let changed: boolean;
      try {
        if (this.tryAcquire(owner)) return true;
        changed = await waitChange(this.ia, SEQ, seq, deadline, signal);
      } finally {
        Atomics.sub(this.ia, WAITING, 1);
        Atomics.store(this.ia, PENDING, 0);
      }
      if (!changed) return this.tryAcquire(owner);
    }
  }

  /**
   * Lets go once (an RLock counts down). A `Lock` may be released by any
   * process, as Python's; an `RLock` only by its owner.
   */
  release(owner: number): void {
    if (!this.recursive) {
      if (Atomics.exchange(this.ia, OWNER, 0) === 0) {
        throw new RangeError("Cannot release lock: it is not acquired");
      }
      this.#wake();
      return;
    }
    const cur = Atomics.load(this.ia, OWNER);
    if (cur === 0) throw new RangeError("Cannot release lock: it is not acquired");
    if (cur !== owner) {
      throw new ProcessError("Cannot release lock: it is held by another process");
    }
    if (Atomics.sub(this.ia, COUNT, 1) > 1) return;
    this.#free();
  }

  #free(): void {
    Atomics.store(this.ia, COUNT, 0);
    Atomics.store(this.ia, OWNER, 0);
    this.#wake();
  }

  #wake(): void {
    // One wake-up in flight at a time: until the woken sleeper runs (and
    // clears PENDING), later releases need not notify again.
    if (
      Atomics.load(this.ia, WAITING) > 0 &&
      Atomics.compareExchange(this.ia, PENDING, 0, 1) === 0
    ) {
      Atomics.add(this.ia, SEQ, 1);
      wakeAll(this.ia, SEQ);
    }
  }

  /** The owner number, 0 when free. */
  owner(): number {
    return Atomics.load(this.ia, OWNER);
  }

  /** The recursion depth (1 for a held Lock, 0 when free). */
  count(): number {
    if (!this.recursive) return this.owner() === 0 ? 0 : 1;
    return Atomics.load(this.ia, COUNT);
  }

  /** Frees the lock entirely, whatever its depth; returns the depth. */
  releaseAll(owner: number): number {
    const depth = this.count();
    if (this.owner() !== owner) return 0;
    this.#free();
    return depth;
  }

  /** Takes the lock back at the depth {@link LockCore.releaseAll} returned. */
  async restore(owner: number, depth: number): Promise<void> {
    await this.acquire(owner, null);
    if (this.recursive) Atomics.store(this.ia, COUNT, depth);
  }

  /** Frees the lock if `owner` holds it (the owner died). */
  forceRelease(owner: number): boolean {
    if (Atomics.compareExchange(this.ia, OWNER, owner, owner) !== owner) return false;
    this.#free();
    return true;
  }
}

/**
 * Frees every lock this isolate knows that `owner` holds: a worker child
 * died holding it. Returns how many.
 */
export function recoverOwner(owner: number): number {
  let n = 0;
  for (const ref of locks()) {
    const lock = ref.deref();
    if (!lock) locks().delete(ref);
    else if (lock.forceRelease(owner)) n++;
  }
  return n;
}

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

/** One word: 1 when set. */
export class EventCore {
  readonly ia: Int32Array;

  /** Over `ia`, made fresh (clear) when absent. */
  constructor(ia: Int32Array = new Int32Array(new SharedArrayBuffer(4))) {
    this.ia = ia;
  }

  set(): void {
    Atomics.store(this.ia, 0, 1);
    wakeAll(this.ia, 0);
  }

  clear(): void {
    Atomics.store(this.ia, 0, 0);
  }

  isSet(): boolean {
    return Atomics.load(this.ia, 0) === 1;
  }

  /** Waits until set or the deadline; resolves whether it is set. */
  async wait(deadline: number | null, signal?: AbortSignal): Promise<boolean> {
    while (!this.isSet()) {
      if (!await waitChange(this.ia, 0, 0, deadline, signal)) return this.isSet();
    }
    return true;
  }
}

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
