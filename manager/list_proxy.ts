/**
 * `ListProxy`: a proxy to a list a manager serves.
 *
 * @module
 */

import { callProxy } from "../_internal/manager/proxy_calls.ts";
import { SequenceProxy } from "./sequence_proxy.ts";

/**
 * A proxy to a list in a manager: Python's `ListProxy`. Indexes may be
 * negative (from the end), as in Python.
 *
 * @typeParam T The items' type.
 *
 * @example A manager's list
 * ```ts
 * import { Manager } from "@mp/multiprocessing/manager";
 * import { assertEquals } from "@std/assert";
 *
 * await using manager = await Manager.start();
 * const l = await manager.list([3, 1]);
 * await l.extend([2]);
 * await l.sort();
 * assertEquals(await l.toArray(), [1, 2, 3]);
 * assertEquals(await l.get(-1), 3);
 * assertEquals(await l.slice(1), [2, 3]);
 * ```
 */
export class ListProxy<T = unknown> extends SequenceProxy<T> {
  /**
   * Removes `deleteCount` items at `start`, inserts `items` there, resolves the removed ones
   * (as `Array.splice`).
   *
   * @param start The index to start at; negative counts from the end.
   * @param deleteCount How many items to remove.
   * @param items The items to insert in their place.
   * @returns A local array of the removed items.
   */
  async splice(start: number, deleteCount: number, ...items: T[]): Promise<T[]> {
    return await callProxy(this, "splice", [start, deleteCount, items]);
  }

  /**
   * Adds an item at the end; resolves the new length.
   *
   * @param item The item; handles and proxies inside it travel as themselves.
   * @returns The list's new length.
   */
  async append(item: T): Promise<number> {
    return await callProxy(this, "append", [item]) as number;
  }

  /**
   * Adds items at the end in one call; resolves the new length.
   *
   * @param items The items, in order.
   * @returns The list's new length.
   */
  async extend(items: Iterable<T>): Promise<number> {
    return await callProxy(this, "extend", [[...items]]) as number;
  }

  /**
   * Inserts an item before `index` (clamped to the list, as in Python).
   *
   * @param index The index to insert before; negative counts from the end.
   * @param item The item; handles and proxies inside it travel as themselves.
   */
  async insert(index: number, item: T): Promise<void> {
    await callProxy(this, "insert", [index, item]);
  }

  /**
   * Removes and resolves the item at `index` (default: the last).
   *
   * @param index The index; negative counts from the end; left out, the last item.
   * @returns The removed item.
   * @throws {RangeError} When the list is empty or `index` out of range.
   */
  pop(index?: number): Promise<T> {
    return callProxy(this, "pop", index === undefined ? [] : [index]);
  }

  /**
   * Removes the first item equal to `value`.
   *
   * @param value The item to remove (equal: the same primitive, or an object with the same JSON).
   * @throws {RangeError} When no item is equal.
   */
  async remove(value: T): Promise<void> {
    await callProxy(this, "remove", [value]);
  }

  /**
   * The index of the first item equal to `value`.
   *
   * @param value The item to find (equal: the same primitive, or an object with the same JSON).
   * @returns Its index, from 0.
   * @throws {RangeError} When no item is equal.
   */
  async index(value: T): Promise<number> {
    return await callProxy(this, "index", [value]) as number;
  }

  /**
   * How many items equal `value`.
   *
   * @param value The item to count (equal: the same primitive, or an object with the same JSON).
   * @returns The number of equal items.
   */
  async count(value: T): Promise<number> {
    return await callProxy(this, "count", [value]) as number;
  }

  /**
   * Sorts numbers or strings in place, ascending (descending with `reverse`).
   *
   * @param options `reverse`: `true` to sort descending (default `false`).
   * @throws {TypeError} When the items are not all numbers, all strings or all bigints.
   */
  async sort(options: { reverse?: boolean } = {}): Promise<void> {
    await callProxy(this, "sort", [options.reverse ?? false]);
  }

  /** Reverses the list in place. */
  async reverse(): Promise<void> {
    await callProxy(this, "reverse", []);
  }

  /** Removes every item. */
  async clear(): Promise<void> {
    await callProxy(this, "clear", []);
  }
}
