/**
 * `SequenceProxy`: what the list and array proxies share, the calls by
 * index.
 *
 * @module
 */

import { callProxy } from "../_internal/manager/proxy_calls.ts";
import { BaseProxy } from "./base_proxy.ts";

/**
 * A proxy to a sequence in a manager: items by index (negative from the
 * end, as in Python), slices, the length and a local copy.
 * {@link ListProxy} and {@link ArrayProxy} are sequences.
 *
 * @typeParam T The items' type.
 *
 * @example Index from the end, slice
 * ```ts
 * import { Manager, SequenceProxy } from "@mp/multiprocessing/manager";
 * import { assert, assertEquals } from "@std/assert";
 *
 * await using manager = await Manager.start();
 * const a = await manager.Array("i", [1, 2, 3]);
 * assert(a instanceof SequenceProxy);
 * assertEquals(await a.get(-1), 3);
 * assertEquals(await a.slice(0, 2), [1, 2]);
 * ```
 */
export class SequenceProxy<T> extends BaseProxy {
  /**
   * The item at `index`.
   *
   * @param index The index; negative counts from the end.
   * @returns The item.
   * @throws {RangeError} When `index` is out of range.
   */
  get(index: number): Promise<T> {
    return callProxy(this, "get", [index]);
  }

  /**
   * Sets the item at `index`.
   *
   * @param index The index; negative counts from the end.
   * @param value The item; handles and proxies inside it travel as themselves.
   * @throws {RangeError} When `index` is out of range.
   */
  async set(index: number, value: T): Promise<void> {
    await callProxy(this, "set", [index, value]);
  }

  /**
   * Items `start` to `end` (exclusive; negative from the end), as `Array.slice`.
   *
   * @param start The first index (default 0).
   * @param end The index after the last (default: the length).
   * @returns A local array of the items.
   */
  slice(start?: number, end?: number): Promise<T[]> {
    return callProxy(this, "slice", end === undefined ? [start] : [start, end]);
  }

  /**
   * The number of items.
   *
   * @returns The length.
   */
  len(): Promise<number> {
    return callProxy(this, "len", []);
  }

  /**
   * A copy of the items.
   *
   * @returns A local array.
   */
  toArray(): Promise<T[]> {
    return callProxy(this, "toArray", []);
  }
}
