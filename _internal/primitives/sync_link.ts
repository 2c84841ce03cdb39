/**
 * A synchronization primitive as its handles see it: the shared-memory core
 * when this process sees the memory, else calls to the creator, which runs
 * the same core on the caller's behalf (`sync_host.ts`).
 *
 * @module
 */

import type { Descriptor, PackContext } from "../hub/handles.ts";
import { LocalRef, refFor } from "../hub/refs.ts";
import type { ObjectRef } from "../hub/protocol.ts";
import { recoverOwner } from "./lock_core.ts";
import { deadlineFor, myOwner } from "./sync_wait.ts";
import { type Core, SyncHost } from "./sync_host.ts";

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
    ctx: PackContext | undefined,
    extra: Record<string, unknown>,
  ): Promise<Descriptor> {
    const ref = this.ref();
    const shared = ctx?.sharedMemory && this.core ? { sab: this.core.ia.buffer } : {};
    return {
      kind,
      address: await ref.address(ctx),
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
