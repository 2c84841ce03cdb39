/**
 * A managed namespace: named attributes, over a dict.
 *
 * @module
 */

import type { Hosted } from "../hub/protocol.ts";
import { type Holdings, noMethod } from "./holdings.ts";
import { DictCore } from "./dict_core.ts";

/** A Python `Namespace`: named attributes. */
export class NamespaceCore implements Hosted {
  #dict: DictCore;
  #h: Holdings;

  /** A namespace with `attrs`. */
  constructor(h: Holdings, attrs: Record<string, unknown> = {}) {
    this.#h = h;
    this.#dict = new DictCore(h, Object.entries(attrs));
  }

  call(method: string, args: unknown[]): unknown {
    switch (method) {
      case "get":
      case "set":
      case "has":
      case "delete":
        return this.#dict.call(method, args.slice(0, 2));
      case "toObject":
        return this.#h.readOut(Object.fromEntries(this.#dict.entries()));
    }
    throw noMethod("namespace", method);
  }

  /** Drops every attribute. */
  dispose(): void {
    this.#dict.dispose();
  }
}
