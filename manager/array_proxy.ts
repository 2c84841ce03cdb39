/**
 * `ArrayProxy`: a proxy to a fixed-length array a manager serves.
 *
 * @module
 */

import { extraOf } from "../_internal/manager/proxy_calls.ts";
import { SequenceProxy } from "./sequence_proxy.ts";

/**
 * A proxy to a fixed-length array in a manager (`manager.Array(typecode,
 * items)`): Python's `ArrayProxy`.
 *
 * @example A manager's typed array
 * ```ts
 * import { Manager } from "@mp/multiprocessing/manager";
 * import { assertEquals } from "@std/assert";
 *
 * await using manager = await Manager.start();
 * const a = await manager.Array("i", [1, 2, 3]);
 * await a.set(0, 10);
 * assertEquals(await a.toArray(), [10, 2, 3]);
 * assertEquals(await a.len(), 3);
 * ```
 */
export class ArrayProxy<T = number> extends SequenceProxy<T> {
  /** The type code given at creation. */
  get typecode(): string {
    return extraOf(this).typecode as string;
  }
}
