/**
 * `NamespaceProxy`: a proxy to a namespace a manager serves.
 *
 * @module
 */

import { callProxy } from "../_internal/manager/proxy_calls.ts";
import { MappingProxy } from "./mapping_proxy.ts";

/**
 * A proxy to a namespace in a manager: Python's `Namespace`, with explicit
 * `get`/`set` instead of attribute access.
 *
 * @example A manager's namespace
 * ```ts
 * import { Manager } from "@mp/multiprocessing/manager";
 * import { assertEquals } from "@std/assert";
 *
 * await using manager = await Manager.start();
 * const ns = await manager.Namespace({ x: 1 });
 * await ns.set("y", "two");
 * assertEquals(await ns.toObject(), { x: 1, y: "two" });
 * ```
 */
export class NamespaceProxy extends MappingProxy<string, unknown> {
  /**
   * Every attribute, as a local object.
   *
   * @returns A plain object of the attributes, by name.
   */
  toObject(): Promise<Record<string, unknown>> {
    return callProxy(this, "toObject", []);
  }
}
