/**
 * `ObjectProxy`: a proxy to an object of a registered type.
 *
 * @module
 */

import { callProxy, extraOf } from "../_internal/manager/proxy_calls.ts";
import { BaseProxy } from "./base_proxy.ts";

/**
 * A proxy to an object of a type registered with `BaseManager.register`:
 * only the methods the type exposes can be called, by name.
 *
 * @typeParam T The served object's type (for typing the calls).
 *
 * @example
 * ```ts
 * import { BaseManager } from "../manager.ts";
 * import { assertEquals } from "@std/assert";
 *
 * const module = new URL("../tests/fixtures/manager_targets.ts", import.meta.url).href;
 * const { makeCounter } = await import(module);
 *
 * class MyManager extends BaseManager {}
 * MyManager.register("Counter", makeCounter, { module, methods: ["add", "value"] });
 * await using m = new MyManager();
 * await m.start();
 * const c = await m.create("Counter", 5);
 * await c.call("add", 2);
 * assertEquals(await c.call("value"), 7);
 * ```
 */
// deno-lint-ignore no-explicit-any
export class ObjectProxy<T = Record<string, (...args: any[]) => unknown>> extends BaseProxy {
  /** The methods the object exposes. */
  get methods(): readonly string[] {
    return extraOf(this).methods as string[];
  }

  /**
   * Calls an exposed method and resolves its result.
   *
   * @throws {TypeError} When the method is not exposed.
   */
  async call<M extends keyof T & string>(
    method: M,
    // deno-lint-ignore no-explicit-any
    ...args: T[M] extends (...a: infer A) => any ? A : never
  ): Promise<T[M] extends (...a: never[]) => infer R ? Awaited<R> : never> {
    return await callProxy(this, method, args);
  }
}
