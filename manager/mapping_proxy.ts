/**
 * `MappingProxy`: what the dict and namespace proxies share, the calls on
 * one key.
 *
 * @module
 */

import { callProxy } from "../_internal/manager/proxy_calls.ts";
import { BaseProxy } from "./base_proxy.ts";

/**
 * A proxy to a keyed container in a manager: `get`, `set`, `has` and
 * `delete` on one key, each one atomic call. {@link DictProxy} and
 * {@link NamespaceProxy} are mappings.
 *
 * @typeParam K The keys' type.
 * @typeParam V The values' type.
 *
 * @example Delete and test keys
 * ```ts
 * import { Manager, MappingProxy } from "@mp/multiprocessing/manager";
 * import { assert, assertEquals } from "@std/assert";
 *
 * await using manager = await Manager.start();
 * const ns = await manager.Namespace({ x: 1 });
 * assert(ns instanceof MappingProxy);
 * assertEquals(await ns.delete("x"), true);
 * assertEquals(await ns.has("x"), false);
 * ```
 */
export class MappingProxy<K, V> extends BaseProxy {
  /**
   * The value at `key`, or `fallback` (default `undefined`) when absent.
   *
   * @param key The key.
   * @param fallback What to resolve when the key is absent.
   * @returns The value, or the fallback.
   */
  get(key: K, fallback?: V): Promise<V | undefined> {
    return callProxy(this, "get", arguments.length > 1 ? [key, fallback] : [key]);
  }

  /**
   * Sets `key` to `value`.
   *
   * @param key The key.
   * @param value The value; handles and proxies inside it travel as themselves.
   */
  async set(key: K, value: V): Promise<void> {
    await callProxy(this, "set", [key, value]);
  }

  /**
   * Whether `key` is present.
   *
   * @param key The key.
   * @returns Whether it is present.
   */
  has(key: K): Promise<boolean> {
    return callProxy(this, "has", [key]);
  }

  /**
   * Removes `key`.
   *
   * @param key The key.
   * @returns Whether it was present.
   */
  delete(key: K): Promise<boolean> {
    return callProxy(this, "delete", [key]);
  }
}
