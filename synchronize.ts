/**
 * `Lock`, `RLock`, `Semaphore`, `BoundedSemaphore`, `Event`, `Condition` and
 * `Barrier`: Python's process synchronization primitives.
 *
 * Each lives in a few words of a `SharedArrayBuffer` and is operated with
 * `Atomics`: the creating process and its worker children share the memory
 * itself (no message round trip), while subprocess children, which cannot
 * share memory, reach the primitive through the creator's hub, which runs
 * the same algorithm for them. Pass a primitive as an argument to a
 * `Process` (or a pool task) of either start method.
 *
 * In JavaScript's idiom: every method is async (a subprocess child must ask
 * the creator), timeouts are milliseconds, waits take an `AbortSignal`, and
 * `await using held = await lock.guard()` replaces `with lock:`.
 *
 * Ownership is per process: a lock is held by a process (or worker), not by
 * one async function in it, so an `RLock` is re-entrant for all the code of
 * the process that holds it.
 *
 * A holder that dies does not deadlock the others, where Python's would: a
 * lock held by a worker child that exits (or is killed) is freed by its
 * parent, and a lock held by a subprocess child through the creator is freed
 * by the creator when the child's connection drops. The data the lock
 * guarded may be half-updated: the lock's waiters go on regardless.
 *
 * @example A counter guarded by a lock
 * ```ts
 * import { Lock } from "./synchronize.ts";
 * import { assertEquals } from "@std/assert";
 *
 * await using lock = new Lock();
 * let counter = 0;
 * await Promise.all([1, 2, 3].map(() =>
 *   lock.withLock(async () => {
 *     const seen = counter;
 *     await Promise.resolve();
 *     counter = seen + 1;
 *   })
 * ));
 * assertEquals(counter, 3);
 * ```
 *
 * @module
 */

import { BrokenBarrierError } from "./_internal/errors.ts";
import {
  type Descriptor,
  type PackContext,
  packHandles,
  registerReviver,
  reviveHandles,
  TO_DESCRIPTOR,
} from "./_internal/handles.ts";
import {
  BarrierCore,
  ConditionCore,
  EventCore,
  LockCore,
  SemaphoreCore,
} from "./_internal/sync_core.ts";
import { deadlineFor, linkFrom, myOwner, SyncLink } from "./_internal/sync_host.ts";

export { BrokenBarrierError };

/** Options of a wait: `block`, `timeout` (ms) and `signal`. */
export interface AcquireOptions {
  /**
   * Wait at all; `false` answers at once.
   * @default {true}
   */
  block?: boolean;
  /** Milliseconds to wait at most; no limit when absent. */
  timeout?: number;
  /** Aborts the wait: it rejects with the signal's reason. */
  signal?: AbortSignal;
}

/** Options of a wait that always blocks: `timeout` (ms) and `signal`. */
export interface WaitOptions {
  /** Milliseconds to wait at most; no limit when absent. */
  timeout?: number;
  /** Aborts the wait: it rejects with the signal's reason. */
  signal?: AbortSignal;
}

// Settled promises handed out by the uncontended paths: no allocation.
const TRUE: Promise<boolean> = Promise.resolve(true);
const RESOLVED: Promise<void> = Promise.resolve();

const REVIVE = Symbol("revive");
type Revive = { [REVIVE]: SyncLink };

function revived(arg: unknown): SyncLink | undefined {
  return (arg as Partial<Revive> | undefined)?.[REVIVE];
}

function waitOptions(o: number | WaitOptions | undefined): WaitOptions {
  return typeof o === "number" ? { timeout: o } : o ?? {};
}

/** Milliseconds left until `deadline`, for a call the creator runs. */
function left(deadline: number | null): number | null {
  return deadline === null ? null : Math.max(0, deadline - performance.now());
}

function direct<T>(link: SyncLink): T | undefined {
  return link.viaHost ? undefined : link.core as T | undefined;
}

async function acquireLock(link: SyncLink, o: AcquireOptions): Promise<boolean> {
  const deadline = deadlineFor("acquire lock", o);
  const core = direct<LockCore>(link);
  if (core) return await core.acquire(myOwner(), deadline, o.signal);
  const owner = myOwner();
  const ref = link.ref();
  const ok = await ref.call("acquire", [owner, left(deadline)], {
    signal: o.signal,
    // Granted after the caller gave up: give it back.
    onOrphan: (v) => v === true && ref.send("release", [owner]),
  }) as boolean;
  if (ok) link.heldHere++;
  return ok;
}

async function releaseRemote(link: SyncLink): Promise<void> {
  if (link.heldHere > 0) {
    // Held through this handle: the release cannot fail, so it need not
    // wait for the creator; calls after it still reach it after.
    link.heldHere--;
    return await link.ref().post("release", [myOwner()]);
  }
  await link.call("release", [myOwner()]);
}

function timeoutError(what: string, o: AcquireOptions): DOMException {
  return new DOMException(`Cannot ${what}: not acquired within ${o.timeout} ms`, "TimeoutError");
}

// Set once by Lock's static block: Condition reaches its lock's link.
let linkOfLock: (lock: Lock) => SyncLink;

/**
 * A non-recursive lock shared between processes, as Python's
 * `multiprocessing.Lock`: any process may release it.
 *
 * @example Timed acquire
 * ```ts
 * import { Lock } from "./synchronize.ts";
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

  /** @internal Describes this handle for another process. */
  [TO_DESCRIPTOR](ctx?: PackContext): Promise<Descriptor> {
    const recursive = this instanceof RLock;
    return this.#link.describe("lock", import.meta.url, ctx, { recursive });
  }

  /** In the creating process: stops serving the lock to other processes. */
  [Symbol.asyncDispose](): Promise<void> {
    this.#link.release();
    return Promise.resolve();
  }

  static {
    linkOfLock = (lock) => lock.#link;
  }
}

/**
 * A recursive lock, as Python's `multiprocessing.RLock`: the process that
 * holds it may take it again, and must release it as many times.
 *
 * @example
 * ```ts
 * import { RLock } from "./synchronize.ts";
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

/**
 * A counting semaphore, as Python's `multiprocessing.Semaphore`.
 *
 * @example
 * ```ts
 * import { Semaphore } from "./synchronize.ts";
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
   * Creates a semaphore at `value`.
   *
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
   * Decrements the value, waiting while it is 0 unless told not to; resolves
   * whether it did.
   */
  acquire(options: AcquireOptions = {}): Promise<boolean> {
    const core = direct<SemaphoreCore>(this.#link);
    if (core?.tryAcquire()) return Promise.resolve(true);
    return this.#acquire(core, options);
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
   * @throws {RangeError} For a {@link BoundedSemaphore} released above its start value.
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

  /** The current value. */
  async getValue(): Promise<number> {
    const core = direct<SemaphoreCore>(this.#link);
    return core ? core.value() : await this.#link.call("value", []) as number;
  }

  /** @internal Describes this handle for another process. */
  [TO_DESCRIPTOR](ctx?: PackContext): Promise<Descriptor> {
    const bounded = this instanceof BoundedSemaphore;
    return this.#link.describe("semaphore", import.meta.url, ctx, { bounded });
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
 * @example
 * ```ts
 * import { BoundedSemaphore } from "./synchronize.ts";
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

/**
 * A flag processes wait on, as Python's `multiprocessing.Event`.
 *
 * @example
 * ```ts
 * import { Event } from "./synchronize.ts";
 * import { assertEquals } from "@std/assert";
 *
 * await using ev = new Event();
 * assertEquals(await ev.wait(5), false);
 * await ev.set();
 * assertEquals(await ev.isSet(), true);
 * assertEquals(await ev.wait(), true);
 * ```
 */
export class Event {
  #link: SyncLink;

  /** Creates a clear event hosted by this process. */
  constructor() {
    this.#link = revived(arguments[0]) ?? new SyncLink(new EventCore());
  }

  /** Sets the flag, waking every waiter. */
  async set(): Promise<void> {
    const core = direct<EventCore>(this.#link);
    if (core) core.set();
    else await this.#link.call("set", []);
  }

  /** Clears the flag. */
  async clear(): Promise<void> {
    const core = direct<EventCore>(this.#link);
    if (core) core.clear();
    else await this.#link.call("clear", []);
  }

  /** Whether the flag is set. */
  async isSet(): Promise<boolean> {
    const core = direct<EventCore>(this.#link);
    return core ? core.isSet() : await this.#link.call("isSet", []) as boolean;
  }

  /**
   * Waits until the flag is set; resolves whether it is (false after a
   * timeout, as Python's).
   *
   * @param options A timeout in ms, or `{ timeout, signal }`.
   */
  async wait(options?: number | WaitOptions): Promise<boolean> {
    const o = waitOptions(options);
    const deadline = deadlineFor("wait for event", o);
    const core = direct<EventCore>(this.#link);
    if (core) return await core.wait(deadline, o.signal);
    return await this.#link.call("wait", [left(deadline)], o.signal) as boolean;
  }

  /** @internal Describes this handle for another process. */
  [TO_DESCRIPTOR](ctx?: PackContext): Promise<Descriptor> {
    return this.#link.describe("event", import.meta.url, ctx, {});
  }

  /** In the creating process: stops serving the event to other processes. */
  [Symbol.asyncDispose](): Promise<void> {
    this.#link.release();
    return Promise.resolve();
  }
}

registerReviver("event", (d) => {
  const link = linkFrom(d, (ia) => new EventCore(ia));
  return new (Event as new (r: Revive) => Event)({ [REVIVE]: link });
});

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
 * import { Condition, Lock } from "./synchronize.ts";
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
   * Creates a condition over `lock` (a new {@link RLock} when absent).
   *
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
    const core = direct<LockCore>(linkOfLock(this.#lock));
    if (!core) {
      throw new TypeError(
        "Cannot create condition: its lock must be created in this process (or be shared memory)",
      );
    }
    this.#link = new SyncLink(new ConditionCore(core));
  }

  /** Takes the condition's lock (see {@link Lock.acquire}). */
  acquire(options: AcquireOptions = {}): Promise<boolean> {
    return this.#lock.acquire(options);
  }

  /** Lets the condition's lock go. */
  release(): Promise<void> {
    return this.#lock.release();
  }

  /** Takes the lock; the guard releases it (see {@link Lock.guard}). */
  guard(options: WaitOptions = {}): Promise<AsyncDisposable> {
    return this.#lock.guard(options);
  }

  /** Runs `fn` holding the lock (see {@link Lock.withLock}). */
  withLock<T>(fn: () => T | Promise<T>, options: WaitOptions = {}): Promise<T> {
    return this.#lock.withLock(fn, options);
  }

  /**
   * Releases the lock, waits for a notify, and takes the lock back; resolves
   * whether it was notified (false after a timeout, the lock held again). On
   * abort it rejects with the signal's reason, without the lock.
   *
   * @throws {ProcessError} When this process does not hold the lock.
   */
  async wait(options?: number | WaitOptions): Promise<boolean> {
    const o = waitOptions(options);
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
   * Waits until `predicate()` is truthy, checking it at each notify; resolves
   * its last value (falsy after a timeout).
   */
  async waitFor<T>(predicate: () => T, options?: number | WaitOptions): Promise<T> {
    const o = waitOptions(options);
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

  /** @internal Describes this handle for another process. */
  async [TO_DESCRIPTOR](ctx?: PackContext): Promise<Descriptor> {
    const [lock] = await packHandles([this.#lock], ctx);
    return this.#link.describe("condition", import.meta.url, ctx, { lock });
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
  const [lock] = await reviveHandles([d.extra?.lock]) as [Lock];
  const lockCore = direct<LockCore>(linkOfLock(lock));
  const link = linkFrom(d, (ia) => new ConditionCore(lockCore!, ia));
  const token = { [REVIVE]: [lock, lockCore ? link : new SyncLink(undefined, link.ref())] };
  return new Condition(token as unknown as Lock);
});

/** Options of a {@link Barrier}. */
export interface BarrierOptions {
  /**
   * Run once per pass, by the last party to arrive, before the others are
   * released. It runs in the creating process: other processes' waits go
   * through it when there is an action. If it throws, the barrier breaks.
   */
  action?: () => unknown;
  /** Default timeout of {@link Barrier.wait}, in milliseconds. */
  timeout?: number;
}

/**
 * A barrier for a fixed number of parties, as Python's
 * `multiprocessing.Barrier`: each `wait` resolves once all have arrived.
 *
 * @example
 * ```ts
 * import { Barrier } from "./synchronize.ts";
 * import { assertEquals } from "@std/assert";
 *
 * let passes = 0;
 * await using barrier = new Barrier(3, { action: () => passes++ });
 * const indices = await Promise.all([barrier.wait(), barrier.wait(), barrier.wait()]);
 * assertEquals(indices.sort(), [0, 1, 2]);
 * assertEquals(passes, 1);
 * ```
 */
export class Barrier {
  #link: SyncLink;
  #parties: number;
  #timeout: number | undefined;

  /**
   * Creates a barrier for `parties`.
   *
   * @throws {RangeError} When `parties` is not a positive integer, or the timeout is negative.
   */
  constructor(parties: number, options: BarrierOptions = {}) {
    const from = (options as { [REVIVE]?: [SyncLink, number, number | undefined] })[REVIVE];
    if (from) {
      [this.#link, this.#parties, this.#timeout] = from;
      return;
    }
    if (!Number.isInteger(parties) || parties < 1 || parties > 0x7fffffff) {
      throw new RangeError(
        `Cannot create barrier: 'parties' must be a positive integer, received ${parties}`,
      );
    }
    if (options.timeout !== undefined) deadlineFor("create barrier", options);
    if (options.action !== undefined && typeof options.action !== "function") {
      throw new TypeError(`Cannot create barrier: 'action' must be a function`);
    }
    this.#parties = parties;
    this.#timeout = options.timeout;
    this.#link = new SyncLink(new BarrierCore(parties), undefined, options.action);
  }

  /** The number of parties. */
  get parties(): number {
    return this.#parties;
  }

  /**
   * Waits for every party; resolves this party's arrival index, from 0 (the
   * first) to `parties - 1` (the last).
   *
   * @param options A timeout in ms, or `{ timeout, signal }`; the default
   * timeout is the barrier's.
   * @throws {BrokenBarrierError} When the barrier is or becomes broken, or
   * this wait times out (which breaks it).
   */
  async wait(options?: number | WaitOptions): Promise<number> {
    const o = waitOptions(options);
    const deadline = deadlineFor("wait on barrier", { timeout: this.#timeout, ...o });
    const core = direct<BarrierCore>(this.#link);
    if (core) return await core.wait(myOwner(), deadline, o.signal, this.#link.action);
    return await this.#link.call("wait", [myOwner(), left(deadline)], o.signal) as number;
  }

  /** Breaks the barrier: current and later waits reject until {@link Barrier.reset}. */
  async abort(): Promise<void> {
    const core = direct<BarrierCore>(this.#link);
    if (core) await core.abort(myOwner());
    else await this.#link.call("abort", [myOwner()]);
  }

  /** Returns the barrier to empty and unbroken; current waits reject. */
  async reset(): Promise<void> {
    const core = direct<BarrierCore>(this.#link);
    if (core) await core.reset(myOwner());
    else await this.#link.call("reset", [myOwner()]);
  }

  /** The number of parties waiting now. */
  async nWaiting(): Promise<number> {
    const core = direct<BarrierCore>(this.#link);
    return core ? core.nWaiting() : await this.#link.call("nWaiting", [0]) as number;
  }

  /** Whether the barrier is broken. */
  async broken(): Promise<boolean> {
    const core = direct<BarrierCore>(this.#link);
    return core ? core.broken() : await this.#link.call("broken", [0]) as boolean;
  }

  /** @internal Describes this handle for another process. */
  [TO_DESCRIPTOR](ctx?: PackContext): Promise<Descriptor> {
    return this.#link.describe("barrier", import.meta.url, ctx, {
      parties: this.#parties,
      timeout: this.#timeout,
      hasAction: this.#link.action !== undefined,
    });
  }

  /** In the creating process: stops serving the barrier to other processes. */
  [Symbol.asyncDispose](): Promise<void> {
    this.#link.release();
    return Promise.resolve();
  }
}

registerReviver("barrier", (d) => {
  const parties = d.extra?.parties as number;
  const link = linkFrom(d, (ia) => new BarrierCore(parties, ia));
  const token = { [REVIVE]: [link, parties, d.extra?.timeout ?? undefined] };
  return new Barrier(parties, token as BarrierOptions);
});
