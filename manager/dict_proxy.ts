/**
 * `DictProxy`: a proxy to a dict a manager serves.
 *
 * @module
 */

import { callProxy } from "../_internal/manager/proxy_calls.ts";
import type { DictKey } from "../_internal/manager/holdings.ts";
import { MappingProxy } from "./mapping_proxy.ts";

/**
 * A proxy to a dict in a manager: Python's `DictProxy`, with `Map`-like
 * method names. Keys are primitives (strings, numbers…); values cross by
 * structured clone, and may hold other proxies and handles.
 *
 * `await d.set(k, (await d.get(k)) + 1)` from two processes loses updates
 * (the two gets may both run before either set), as `d[k] += 1` does in
 * Python; {@link DictProxy.increment} does it in one atomic call.
 *
 * @typeParam K The keys' type.
 * @typeParam V The values' type.
 *
 * @example A manager's dict
 * ```ts
 * import { Manager } from "@mp/multiprocessing/manager";
 * import { assertEquals } from "@std/assert";
 *
 * await using manager = await Manager.start();
 * const d = await manager.dict<string, number>({ a: 1 });
 * await d.set("b", 2);
 * assertEquals(await d.increment("a", 10), 11);
 * assertEquals(await d.items(), [["a", 11], ["b", 2]]);
 * ```
 */
export class DictProxy<K extends DictKey = string, V = unknown> extends MappingProxy<K, V> {
  /**
   * Removes `key` and resolves its value, or `fallback` when absent.
   *
   * @param key The key.
   * @param fallback What to resolve when `key` is absent; left out, an absent key throws.
   * @returns The removed value, or the fallback.
   * @throws {RangeError} When `key` is absent and no fallback is given.
   */
  pop(key: K, fallback?: V): Promise<V> {
    return callProxy(this, "pop", arguments.length > 1 ? [key, fallback] : [key]);
  }

  /**
   * The value at `key`, set to `value` first when absent.
   *
   * @param key The key.
   * @param value The value to set when `key` is absent.
   * @returns The value at `key`: the one it had, or `value`.
   */
  async setdefault(key: K, value: V): Promise<V> {
    return await callProxy(this, "setdefault", [key, value]);
  }

  /**
   * Adds `delta` to the number at `key` (`initial` when absent) in one
   * atomic call and resolves the sum: no update is lost however many
   * processes increment at once.
   *
   * @param key The key.
   * @param delta What to add (default 1).
   * @param initial The value taken for an absent key (default 0).
   * @returns The new value at `key`.
   * @throws {TypeError} When the value is not a number.
   */
  async increment(key: K, delta = 1, initial = 0): Promise<number> {
    return await callProxy(this, "increment", [key, delta, initial]) as number;
  }

  /**
   * Sets every entry of `entries` (a Map, an array of pairs or an object) in one call.
   *
   * @param entries The entries: a `Map`, an array of `[key, value]` pairs or an object.
   */
  async update(entries: Map<K, V> | [K, V][] | Record<string, V>): Promise<void> {
    const pairs = entries instanceof Map || Array.isArray(entries)
      ? [...entries]
      : Object.entries(entries);
    await callProxy(this, "update", [pairs]);
  }

  /**
   * The keys, in insertion order.
   *
   * @returns A local array of the keys.
   */
  async keys(): Promise<K[]> {
    return await callProxy(this, "keys", []) as K[];
  }

  /**
   * The values, in insertion order.
   *
   * @returns A local array of the values.
   */
  values(): Promise<V[]> {
    return callProxy(this, "values", []);
  }

  /**
   * The `[key, value]` pairs, in insertion order.
   *
   * @returns A local array of the pairs.
   */
  items(): Promise<[K, V][]> {
    return callProxy(this, "items", []);
  }

  /**
   * The number of entries.
   *
   * @returns The number of entries.
   */
  async len(): Promise<number> {
    return await callProxy(this, "len", []) as number;
  }

  /** Removes every entry. */
  async clear(): Promise<void> {
    await callProxy(this, "clear", []);
  }

  /**
   * A copy of the dict, as a local `Map`.
   *
   * @returns A `Map` of the entries, in insertion order.
   */
  async copy(): Promise<Map<K, V>> {
    return new Map(await this.items());
  }
}
