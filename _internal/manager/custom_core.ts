/**
 * An object of a registered type, served with only the methods it exposes.
 *
 * @module
 */

import type { Hosted } from "../hub/protocol.ts";

/** Serves an object of a registered type: only the methods it exposes. */
export class CustomCore implements Hosted {
  #obj: Record<string, unknown>;
  #typeid: string;
  #methods: Set<string>;

  /** Serves `obj`'s `methods` (default: its public methods, as Python's). */
  constructor(obj: object, typeid: string, methods?: string[]) {
    this.#obj = obj as Record<string, unknown>;
    this.#typeid = typeid;
    this.#methods = new Set(methods ?? publicMethods(obj));
  }

  /** The exposed method names. */
  get methods(): string[] {
    return [...this.#methods];
  }

  call(method: string, args: unknown[]): unknown {
    const fn = this.#obj[method];
    if (!this.#methods.has(method) || typeof fn !== "function") {
      throw new TypeError(
        `Cannot call '${method}' on '${this.#typeid}': it is not an exposed method (exposed: ${
          [...this.#methods].join(", ") || "none"
        })`,
      );
    }
    return fn.apply(this.#obj, args);
  }

  /** Gives the object a chance to clean up. */
  dispose(): void {
    const d = this.#obj[Symbol.dispose as unknown as string];
    if (typeof d === "function") d.call(this.#obj);
  }
}

/**
 * The public methods of an object: functions not starting with `_`, up its
 * class chain. Never `then`: a proxy with a `then` method would be taken
 * for a promise, and awaiting it would call the remote object.
 */
export function publicMethods(obj: object): string[] {
  const names = new Set<string>();
  for (let o = obj; o && o !== Object.prototype; o = Object.getPrototypeOf(o)) {
    for (const k of Object.getOwnPropertyNames(o)) {
      if (k === "constructor" || k === "then" || k.startsWith("_")) continue;
      const desc = Object.getOwnPropertyDescriptor(o, k);
      if (typeof desc?.value === "function") names.add(k);
    }
  }
  return [...names];
}
