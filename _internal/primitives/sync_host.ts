/**
 * The creator's side of a synchronization primitive: it runs the calls of
 * processes that do not share the memory (subprocess children) on the same
 * core, on their behalf.
 *
 * @module
 */

import type { Hosted, Peer } from "../hub/protocol.ts";
import { argInt, argTimeout } from "../hub/args.ts";
import { SharedCore } from "./shared_core.ts";
import { BarrierCore } from "./barrier_core.ts";
import { ConditionCore } from "./condition_core.ts";
import { EventCore } from "./event_core.ts";
import { LockCore } from "./lock_core.ts";
import { SemaphoreCore } from "./semaphore_core.ts";

/** Any of the cores. */
export type Core =
  | LockCore
  | SemaphoreCore
  | EventCore
  | ConditionCore
  | BarrierCore
  | SharedCore;

function lockOf(core: Core): LockCore | undefined {
  return core instanceof LockCore ? core : core instanceof ConditionCore ? core.lock : undefined;
}

function deadline(timeout: unknown): number | null {
  return typeof timeout === "number" ? performance.now() + timeout : null;
}

/**
 * The creator's side: runs calls from processes that do not share the
 * memory. Owners are the callers' numbers; a caller whose connection drops
 * has its locks freed, as a worker child's are when it dies.
 */
export class SyncHost implements Hosted {
  #core: Core;
  #action: (() => unknown) | undefined;
  #owners = new Map<number, Set<number>>();

  /** Serves `core`; a barrier's `action` runs here for remote last arrivals. */
  constructor(core: Core, action?: () => unknown) {
    this.#core = core;
    this.#action = action;
  }

  call(method: string, args: unknown[], peer: Peer, signal: AbortSignal): unknown {
    checkArgs(this.#core, method, args);
    // A caller over a connection is the owner this host gave its connection,
    // whatever number it sends: no caller can act as another's owner.
    if (peer.id !== 0 && ownsByArg(this.#core, method)) {
      args = [remoteOwner(peer), ...args.slice(1)];
    }
    const owner = args[0] as number;
    if (typeof owner === "number" && lockOf(this.#core)) {
      let set = this.#owners.get(peer.id);
      if (!set) this.#owners.set(peer.id, set = new Set());
      set.add(owner);
    }
    return runCore(this.#core, method, args, signal, this.#action);
  }

  detach(peer: Peer): void {
    const lock = lockOf(this.#core);
    for (const owner of this.#owners.get(peer.id) ?? []) lock?.forceRelease(owner);
    this.#owners.delete(peer.id);
  }
}

/** Whether a method's first argument is its caller's owner number. */
function ownsByArg(core: Core, method: string): boolean {
  if (core instanceof SharedCore || core instanceof SemaphoreCore || core instanceof EventCore) {
    return false;
  }
  return method !== "nWaiting" && method !== "broken";
}

/**
 * The owner number of a connection, the same for every primitive of this
 * host (a condition and its lock agree): from 2^30 up, where no ident's
 * hash falls (`sync_wait.ts`), and unique per connection (peer ids are).
 */
function remoteOwner(peer: Peer): number {
  return 0x40000000 + (peer.id % 0x3fffffff);
}

/** The largest owner number (a 31-bit hash of an ident, see `ownerOf`). */
const MAX_OWNER = 0x7fffffff;

/**
 * Checks a call's arguments before any of them reaches a core: a semaphore
 * released by a negative amount, say, would leave its word where every
 * waiter spins without end, and the host with it.
 */
function checkArgs(core: Core, method: string, args: unknown[]): void {
  if (core instanceof SharedCore) return; // It checks its own.
  const owned = lockOf(core) !== undefined || core instanceof BarrierCore;
  if (owned && method !== "nWaiting" && method !== "broken") {
    argInt(args, 0, method, 1, MAX_OWNER);
  }
  if (method === "acquire" || method === "wait") {
    argTimeout(args, core instanceof SemaphoreCore || core instanceof EventCore ? 0 : 1, method);
  }
  if (core instanceof SemaphoreCore && method === "release") argInt(args, 0, method, 1, MAX_OWNER);
  if (core instanceof ConditionCore && method === "notify") argInt(args, 1, method, 0, MAX_OWNER);
}

/** Runs one call on a core; `args[0]` is the owner where one is needed. */
async function runCore(
  core: Core,
  method: string,
  args: unknown[],
  signal: AbortSignal,
  action?: () => unknown,
): Promise<unknown> {
  if (core instanceof SharedCore) return core.call(method, args);
  const [owner, a1] = args as [number, unknown];
  const lock = lockOf(core);
  if (lock && method === "acquire") {
    const ok = await lock.acquire(owner, deadline(a1), signal);
    // The caller left while this waited: it will never release.
    if (ok && signal.aborted) lock.release(owner);
    return ok && !signal.aborted;
  }
  if (lock && method === "release") return lock.release(owner);
  if (lock && method === "releaseAll") return lock.releaseAll(owner);
  if (core instanceof SemaphoreCore) {
    if (method === "acquire") {
      const ok = await core.acquire(deadline(args[0]), signal);
      if (ok && signal.aborted) core.release(1);
      return ok && !signal.aborted;
    }
    if (method === "release") return core.release(args[0] as number);
    if (method === "value") return core.value();
  }
  if (core instanceof EventCore) {
    if (method === "set") return core.set();
    if (method === "clear") return core.clear();
    if (method === "isSet") return core.isSet();
    if (method === "wait") return core.wait(deadline(args[0]), signal);
  }
  if (core instanceof ConditionCore) {
    if (method === "wait") return core.wait(owner, deadline(a1), signal);
    if (method === "notify") return core.notify(owner, a1 as number);
  }
  if (core instanceof BarrierCore) {
    if (method === "wait") return core.wait(owner, deadline(a1), signal, action);
    if (method === "abort") return core.abort(owner);
    if (method === "reset") return core.reset(owner);
    if (method === "nWaiting") return core.nWaiting();
    if (method === "broken") return core.broken();
  }
  throw new TypeError(`Cannot call '${method}' on this synchronization primitive`);
}
