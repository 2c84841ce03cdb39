/**
 * `ArrayProxy`: a proxy to a fixed-length array a manager serves.
 *
 * @module
 */

import { callProxy, extraOf, pack } from "../_internal/manager/proxy_calls.ts";
import { BaseProxy } from "./base_proxy.ts";

/**
 * A proxy to a fixed-length array in a manager (`manager.Array(typecode,
 * items)`): Python's `ArrayProxy`.
 *
 * @example
 * ```ts
 * import { Manager } from "../manager.ts";
 * import { assertEquals } from "@std/assert";
 *
 * await using manager = await Manager.start();
 * const a = await manager.Array("i", [1, 2, 3]);
 * await a.set(0, 10);
 * assertEquals(await a.toArray(), [10, 2, 3]);
 * assertEquals(await a.len(), 3);
 * ```
 */
export class ArrayProxy<T = number> extends BaseProxy {
  /** The type code given at creation. */
  get typecode(): string {
    return extraOf(this).typecode as string;
  }

  /** The item at `index` (negative from the end). */
  get(index: number): Promise<T> {
    return callProxy(this, "get", [index]);
  }

  /** Sets the item at `index`. */
  async set(index: number, value: T): Promise<void> {
    await callProxy(this, "set", [index, await pack(value)]);
  }

  /** Items `start` to `end` (exclusive). */
  slice(start?: number, end?: number): Promise<T[]> {
    return callProxy(this, "slice", end === undefined ? [start] : [start, end]);
  }

  /** The length. */
  async len(): Promise<number> {
    return await callProxy(this, "len", []) as number;
  }

  /** A copy of the items, as a local array. */
  toArray(): Promise<T[]> {
    return callProxy(this, "toArray", []);
  }
}
