/**
 * `ValueProxy`: a proxy to a value a manager serves.
 *
 * @module
 */

import { callProxy, extraOf } from "../_internal/manager/proxy_calls.ts";
import { BaseProxy } from "./base_proxy.ts";

/**
 * A proxy to a value in a manager (`manager.Value(typecode, value)`); the
 * type code is kept as data, as Python's manager keeps it.
 *
 * @example A manager's value
 * ```ts
 * import { Manager } from "@mp/multiprocessing/manager";
 * import { assertEquals } from "@std/assert";
 *
 * await using manager = await Manager.start();
 * const v = await manager.Value("i", 1);
 * assertEquals(await v.increment(2), 3);
 * assertEquals(v.typecode, "i");
 * ```
 */
export class ValueProxy<T = unknown> extends BaseProxy {
  /** The type code given at creation (`"i"`, `"d"`…). */
  get typecode(): string {
    return extraOf(this).typecode as string;
  }

  /**
   * The value.
   *
   * @returns A local copy of the value.
   */
  get(): Promise<T> {
    return callProxy(this, "get", []);
  }

  /**
   * Sets the value.
   *
   * @param value The new value; handles and proxies inside it travel as themselves.
   */
  async set(value: T): Promise<void> {
    await callProxy(this, "set", [value]);
  }

  /**
   * Adds `delta` to a numeric value in one atomic call; resolves the sum.
   * (`v.set((await v.get()) + 1)` from two processes loses updates.)
   *
   * @param delta What to add (default 1).
   * @returns The new value.
   * @throws {TypeError} When the value is not a number.
   */
  async increment(delta = 1): Promise<number> {
    return await callProxy(this, "increment", [delta]) as number;
  }
}
