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
 * import { Lock } from "@mp/multiprocessing/synchronize";
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

export { BrokenBarrierError } from "./_internal/base/errors.ts";
export type { AcquireOptions, WaitOptions } from "./synchronize/_common.ts";
export { Lock, RLock } from "./synchronize/lock.ts";
export { BoundedSemaphore, Semaphore } from "./synchronize/semaphore.ts";
export { Event } from "./synchronize/event.ts";
export { Condition } from "./synchronize/condition.ts";
export { Barrier, type BarrierOptions } from "./synchronize/barrier.ts";
