/**
 * What every manager proxy does under its typed methods: it holds the
 * reference to its object and the descriptor it was revived from, packs
 * handles among the arguments it sends, and revives handles in what comes
 * back.
 *
 * @module
 */

import { type Descriptor, hasHandles, packHandles, reviveAt, WithHandles } from "../hub/handles.ts";
import { refFor } from "../hub/refs.ts";
import type { ObjectRef } from "../hub/protocol.ts";

/** Stands where a proxy's constructor argument would: only revivers make proxies. */
export const PROXY_INIT: unique symbol = Symbol("proxy init");

const BOUND = new WeakMap<object, { ref: ObjectRef; d: Descriptor }>();

/** Binds a new proxy to the object its descriptor names. */
export function bindProxy(proxy: object, d: Descriptor): void {
  BOUND.set(proxy, { ref: refFor(d.address, d.id), d });
}

/** The descriptor a proxy was revived from. */
export function descriptorOf(proxy: object): Descriptor {
  return BOUND.get(proxy)!.d;
}

/** What the object's type keeps beside it (a value's typecode, an object's methods). */
export function extraOf(proxy: object): Record<string, unknown> {
  return BOUND.get(proxy)?.d.extra ?? {};
}

/**
 * Calls a method of the proxy's object: handles among the arguments travel
 * packed (their paths beside them), and those the reply carries beside its
 * value are revived. Nothing else in a value is ever taken for a handle.
 */
export async function callProxy<T>(proxy: object, method: string, args: unknown[]): Promise<T> {
  const ref = BOUND.get(proxy)!.ref;
  let v: unknown;
  if (hasHandles(args)) {
    const packed = await packHandles(args);
    v = await ref.call(method, packed.value, { handles: packed.handles });
  } else {
    v = await ref.call(method, args);
  }
  return (v instanceof WithHandles ? await reviveAt(v.value, v.handles) : v) as T;
}
