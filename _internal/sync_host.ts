/**
 * A synchronization primitive as its handles see it: the shared-memory core
 * when this process sees the memory, else calls to the creator, which runs
 * the same core on the caller's behalf ({@link SyncHost}).
 *
 * @module
 */

import type { Descriptor, PackContext } from "./handles.ts";
import { type Hosted, LocalRef, type ObjectRef, type Peer, refFor } from "./objects.ts";
import { SharedCore } from "./shared_core.ts";
import {
  BarrierCore,
  ConditionCore,
  EventCore,
  LockCore,
  recoverOwner,
  SemaphoreCore,
} from "./sync_core.ts";
import { deadlineFor, myOwner } from "./sync_wait.ts";

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

/**
 * What a handle holds: the core (when it sees the memory) and the way to
 * reach the creator (made on first need).
 */
export class SyncLink {
  /** Present where the memory is shared: the creator and its worker children. */
  readonly core: Core | undefined;
  /** Calls go to the creator even with the core at hand (a barrier's action lives there). */
  readonly viaHost: boolean;
  /** Acquisitions made through this link and not yet released (remote locks). */
  heldHere = 0;
  #owner = 0;
  #ref: ObjectRef | undefined;
  #local: LocalRef | undefined;
  #action: (() => unknown) | undefined;

  /** In the creator: `core` is new; `action` runs where the barrier trips. */
  constructor(core: Core | undefined, ref?: ObjectRef, action?: () => unknown, viaHost = false) {
    this.core = core;
    this.#ref = ref;
    this.#action = action;
    this.viaHost = viaHost && ref !== undefined && !ref.local;
  }

  /**
   * This process's owner number, read once: a handle is made or revived
   * after its process has taken its ident.
   */
  get owner(): number {
    return this.#owner ||= myOwner();
  }

  /** The reference calls go through (hosting the core here on first need). */
  ref(): ObjectRef {
    if (!this.#ref) {
      this.#local = new LocalRef(new SyncHost(this.core!, this.#action));
      this.#ref = this.#local;
    }
    return this.#ref;
  }

  /** Calls the creator, which runs the core for this process. */
  call(method: string, args: unknown[], signal?: AbortSignal): Promise<unknown> {
    return this.ref().call(method, args, { signal });
  }

  /** A descriptor for a process that shares memory or one that does not. */
  async describe(
    kind: string,
    module: string,
    ctx: PackContext | undefined,
    extra: Record<string, unknown>,
  ): Promise<Descriptor> {
    const ref = this.ref();
    const shared = ctx?.sharedMemory && this.core ? { sab: this.core.ia.buffer } : {};
    return {
      kind,
      module,
      address: await ref.address(),
      id: ref.id,
      extra: { ...extra, ...shared },
    };
  }

  /** The action, in the creator. */
  get action(): (() => unknown) | undefined {
    return this.#action;
  }

  /** Stops hosting (in the creator); handles elsewhere then fail. */
  release(): void {
    this.#local?.release();
  }
}

/** A link revived from a descriptor: shared memory if it came along. */
export function linkFrom(d: Descriptor, makeCore: (ia: Int32Array) => Core): SyncLink {
  const sab = d.extra?.sab;
  const ref = refFor(d.address, d.id);
  const core = sab instanceof SharedArrayBuffer ? makeCore(new Int32Array(sab)) : undefined;
  return new SyncLink(core, ref, undefined, d.extra?.hasAction === true);
}

export { deadlineFor, myOwner, recoverOwner };
