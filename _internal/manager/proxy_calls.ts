/**
 * What every manager proxy does under its typed methods: it holds the
 * reference to its object and the descriptor it was revived from, packs
 * handles among the arguments it sends, and revives handles in what comes
 * back.
 *
 * @module
 */

import { type Descriptor, hasHandles, packHandles, reviveHandles } from "../hub/handles.ts";
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

/** Calls a method of the proxy's object; handles in the result are revived. */
export async function callProxy<T>(proxy: object, method: string, args: unknown[]): Promise<T> {
  const v = await BOUND.get(proxy)!.ref.call(method, args);
  return (typeof v === "object" && v !== null ? await reviveHandles(v) : v) as T;
}

/** A value as it is sent: handles inside it packed as descriptors. */
export function pack<T>(v: T): T | Promise<T> {
  return hasHandles(v) ? packHandles(v) : v;
}
