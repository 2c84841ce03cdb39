/**
 * Reference counting of manager objects, on the side of the processes that
 * hold handles to them. Python's scheme, over our object server:
 *
 * - every handle to a manager object holds one reference for its
 *   process's connection (`adopt` when it is made, `decref` when it is
 *   garbage collected); a connection that closes gives back all of its
 *   references at once, so a killed process leaks nothing;
 * - a handle being described to travel (an argument of a Process or a Pool
 *   task, a value put in a manager dict) first takes a reference in transit
 *   (`incref`), which the handle revived on the other side adopts: the
 *   object survives the window in which the sender may drop its handle
 *   before the receiver has made its own.
 *
 * References are the client session's (see `hub/client.ts`): a connection
 * lost while the manager lives is replaced, and the references stay. A
 * handle made through a `BaseManager` instance is also that instance's: its
 * disposal gives back those references only ({@link releaseOwned}).
 *
 * No key travels with a handle: a process reaches a manager with the key it
 * was configured with (`connect()`, or its launch), never one from data.
 *
 * @module
 */

import { type Descriptor, registerHandleHook } from "../hub/handles.ts";
import { forgetHostAuthkey } from "../hub/host_keys.ts";
import type { ObjectRef } from "../hub/protocol.ts";
import { refFor } from "../hub/refs.ts";
import { registry } from "../hub/registry.ts";
import { isolateGlobal } from "../base/state.ts";
import { type Address, addressToString } from "../transport/address.ts";

/** What a manager object's descriptor carries: its manager's registry. */
export interface ManagedMeta {
  /** The id of the manager's registry object, at the object's address. */
  registry: string;
}

/** One handle's reference, as this process holds it. */
interface Held {
  address: Address;
  id: string;
  registry: string;
  /** The set of the `BaseManager` instance it was made through, if any. */
  owner?: Set<Held>;
}

interface Managed {
  objects: Map<string, ManagedMeta>;
  /** Handles alive here per object: its mark goes with the last. */
  handles: Map<string, number>;
  registries: Map<string, ObjectRef>;
  finalizer: FinalizationRegistry<Held>;
  held: WeakMap<object, Held>;
  owned: WeakMap<object, Set<Held>>;
}

function managed(): Managed {
  return isolateGlobal<Managed>("managed", () => ({
    objects: new Map(),
    handles: new Map(),
    registries: new Map(),
    finalizer: new FinalizationRegistry((h) => release(h)),
    held: new WeakMap(),
    owned: new WeakMap(),
  }));
}

/** Gives one reference back (once). */
function release(h: Held): void {
  h.owner?.delete(h);
  h.owner = undefined;
  const key = keyOf(h.address, h.id);
  const n = managed().handles.get(key) ?? 0;
  if (n > 1) managed().handles.set(key, n - 1);
  else {
    managed().handles.delete(key);
    managed().objects.delete(key);
  }
  // A manager this process is not connected to any more has dropped the
  // session's references (and a dead manager is not dialled).
  const ref = registryRef(h.address, h.registry);
  if (ref.local || registry().clients.has(addressToString(h.address))) {
    ref.send("decref", [h.id]);
  }
}

/** The handle was made through `owner` (a `BaseManager`): {@link releaseOwned} gives it back. */
export function claim(owner: object, handle: unknown): void {
  const h = typeof handle === "object" && handle !== null ? managed().held.get(handle) : undefined;
  if (!h || h.owner) return;
  let set = managed().owned.get(owner);
  if (!set) managed().owned.set(owner, set = new Set());
  set.add(h);
  h.owner = set;
}

/** Gives back the references of the handles made through `owner` and still held. */
export function releaseOwned(owner: object): void {
  const set = managed().owned.get(owner);
  if (!set) return;
  for (const h of [...set]) {
    managed().finalizer.unregister(h);
    release(h);
  }
  managed().owned.delete(owner);
}

/** Forgets a manager that has shut down: its registry, its objects, its key. */
export function forgetManager(address: Address): void {
  const prefix = `${addressToString(address)}#`;
  const m = managed();
  for (const key of [...m.registries.keys()]) if (key.startsWith(prefix)) m.registries.delete(key);
  for (const key of [...m.objects.keys()]) if (key.startsWith(prefix)) m.objects.delete(key);
  for (const key of [...m.handles.keys()]) if (key.startsWith(prefix)) m.handles.delete(key);
  forgetHostAuthkey(address);
}

function keyOf(address: Address, id: string): string {
  return `${addressToString(address)}#${id}`;
}

/** The manager registry at `address` (one reference, so calls stay in order). */
export function registryRef(address: Address, id: string): ObjectRef {
  const m = managed().registries;
  const key = keyOf(address, id);
  let ref = m.get(key);
  if (!ref) m.set(key, ref = refFor(address, id));
  return ref;
}

/**
 * A handle to a manager object was made here: its reference is counted for
 * this process until it is garbage collected.
 */
export function track(d: Descriptor, handle: object): void {
  const meta = d.managed!;
  const key = keyOf(d.address, d.id);
  managed().objects.set(key, { registry: meta.registry });
  managed().handles.set(key, (managed().handles.get(key) ?? 0) + 1);
  registryRef(d.address, meta.registry).send("adopt", [d.id]);
  const h: Held = { address: d.address, id: d.id, registry: meta.registry };
  managed().held.set(handle, h);
  managed().finalizer.register(handle, h, h);
}

/** Marks object `id` at `address` as a manager's (in the manager itself). */
export function markManaged(address: Address, id: string, meta: ManagedMeta): void {
  managed().objects.set(keyOf(address, id), meta);
}

/** Forgets a freed object (in the manager). */
export function unmark(address: Address, id: string): void {
  managed().objects.delete(keyOf(address, id));
}

registerHandleHook({
  pack(d) {
    const meta = managed().objects.get(keyOf(d.address, d.id));
    if (!meta) return;
    // Before the descriptor leaves: calls from here reach the manager in order.
    registryRef(d.address, meta.registry).send("incref", [d.id]);
    d.managed = { registry: meta.registry };
  },
  revive(d, handle) {
    track(d, handle as object);
  },
});
