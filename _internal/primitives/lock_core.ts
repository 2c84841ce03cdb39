/**
 * The lock algorithm over an `Int32Array` on a `SharedArrayBuffer`. Each
 * process that sees the memory (the creator, its worker children) runs it
 * directly; the creator runs it on behalf of subprocess children
 * (`sync_host.ts`). Who acts is always passed in as an owner number
 * (`ownerOf`), never taken from the running process, so the two paths are
 * one code.
 *
 * Wake-ups notify every waiter, who then compete again: slower under heavy
 * contention than a targeted wake, but a waiter that timed out or was
 * aborted can never swallow a wake-up meant for another.
 *
 * @module
 */

import { isolateGlobal } from "../base/state.ts";
import { ProcessError } from "../base/errors.ts";
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
function locks(): Set<WeakRef<LockCore>> {
  return isolateGlobal("locks", () => (new Set<WeakRef<LockCore>>()));
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
