/**
 * A managed value, with its type code kept as data.
 *
 * @module
 */

import type { Hosted } from "../hub/protocol.ts";
import { checkNumber, type Holdings, noMethod } from "./holdings.ts";

/** A manager `Value`: one value, with its type code kept as data. */
export class ValueCore implements Hosted {
  #value: unknown;
  #h: Holdings;

  /** A value holding `value`. */
  constructor(h: Holdings, value: unknown) {
    this.#h = h;
    this.#value = value;
    h.stored(value);
  }

  call(method: string, args: unknown[]): unknown {
    switch (method) {
      case "get":
        return this.#h.readOut(this.#value);
      case "set":
        this.#h.removed(this.#value);
        this.#h.stored(args[0]);
        this.#value = args[0];
        return;
      case "increment": {
        const next = checkNumber("increment", this.#value) + checkNumber("increment", args[0] ?? 1);
        this.#value = next;
        return next;
      }
    }
    throw noMethod("value", method);
  }

  /** Drops the value. */
  dispose(): void {
    this.#h.removed(this.#value);
    this.#value = undefined;
  }
}
