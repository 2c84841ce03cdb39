/**
 * `BaseProxy`: what every proxy to a manager's object shares.
 *
 * @module
 */

import type { Descriptor } from "../_internal/hub/handles.ts";
import { TO_DESCRIPTOR } from "../_internal/base/symbols.ts";
import { bindProxy, descriptorOf, PROXY_INIT } from "../_internal/manager/proxy_calls.ts";

/**
 * What every proxy shares: it can travel, and it names the object it
 * reaches. Proxies are made by a manager's factories, never constructed.
 *
 * @example Every proxy is a BaseProxy, and travels as itself
 * ```ts
 * import { BaseProxy, Manager } from "@mp/multiprocessing/manager";
 * import { assert, assertEquals } from "@std/assert";
 *
 * await using manager = await Manager.start();
 * const d = await manager.dict({ a: 1 });
 * assert(d instanceof BaseProxy);
 * // Stored in another object, it comes back as a proxy to the same dict.
 * const ns = await manager.Namespace({ d });
 * const back = await ns.get("d") as BaseProxy;
 * assertEquals(back.id, d.id);
 * ```
 */
export class BaseProxy {
  /**
   * Proxies come from a manager's factories.
   *
   * @ignore
   */
  constructor(init: never) {
    const d = (init as { [PROXY_INIT]?: Descriptor })?.[PROXY_INIT];
    if (!d) {
      throw new TypeError(
        "Cannot construct a proxy: proxies are made by a manager (await manager.dict(), ...)",
      );
    }
    bindProxy(this, d);
  }

  /** The object's id in its manager. */
  get id(): string {
    return descriptorOf(this).id;
  }

  /**
   * Describes this proxy for another process.
   *
   * @ignore
   */
  [TO_DESCRIPTOR](): Promise<Descriptor> {
    const { kind, address, id, extra } = descriptorOf(this);
    return Promise.resolve(extra ? { kind, address, id, extra } : { kind, address, id });
  }
}
