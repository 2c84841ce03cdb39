/**
 * What the synchronization handles share: their wait options, the calls
 * they make to the creator when they do not see the memory, and the token
 * a revived handle is built from.
 *
 * @module
 */

import type { LockCore } from "../_internal/primitives/lock_core.ts";
import { deadlineFor, myOwner } from "../_internal/primitives/sync_wait.ts";
import type { SyncLink } from "../_internal/primitives/sync_link.ts";

export type { AcquireOptions, WaitOptions } from "../_internal/base/waits.ts";
import type { AcquireOptions, WaitOptions } from "../_internal/base/waits.ts";
import { blockingWait, timedWait } from "../_internal/base/waits.ts";

// Settled promises handed out by the uncontended paths: no allocation.
export const TRUE: Promise<boolean> = Promise.resolve(true);

export const RESOLVED: Promise<void> = Promise.resolve();

/** Stands where a constructor argument would, in a handle revived from a descriptor. */
export const REVIVE: unique symbol = Symbol("revive");

export type Revive = { [REVIVE]: SyncLink };

export function revived(arg: unknown): SyncLink | undefined {
  return (arg as Partial<Revive> | undefined)?.[REVIVE];
}

/** A wait's `(timeout | { timeout, signal })`, checked. */
export function waitOptions(what: string, o: number | WaitOptions | undefined): WaitOptions {
  return timedWait(what, o);
}

/** An acquire's `(block | timeout | options, timeout | options)`, as Python's `acquire(block, timeout)`. */
export function acquireOptions(
  what: string,
  block: boolean | number | AcquireOptions | undefined,
  timeout: number | AcquireOptions | undefined,
): AcquireOptions {
  return blockingWait(what, block, timeout);
}

/** Milliseconds left until `deadline`, for a call the creator runs. */
export function left(deadline: number | null): number | null {
  return deadline === null ? null : Math.max(0, deadline - performance.now());
}

export function direct<T>(link: SyncLink): T | undefined {
  return link.viaHost ? undefined : link.core as T | undefined;
}

export async function acquireLock(link: SyncLink, o: AcquireOptions): Promise<boolean> {
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

export async function releaseRemote(link: SyncLink): Promise<void> {
  if (link.heldHere > 0) {
    // Held through this handle: the release cannot fail, so it need not
    // wait for the creator; calls after it still reach it after.
    link.heldHere--;
    return await link.ref().post("release", [myOwner()]);
  }
  await link.call("release", [myOwner()]);
}

export function timeoutError(what: string, o: AcquireOptions): DOMException {
  return new DOMException(`Cannot ${what}: not acquired within ${o.timeout} ms`, "TimeoutError");
}

/** The link of every primitive made or revived here: a condition reaches its lock's. */
export const LINKS: WeakMap<object, SyncLink> = new WeakMap();
