/**
 * A managed dict: a `Map` with Python's dict methods, each call atomic
 * (`increment` is the fix for Python's lost `d[k] += 1`).
 *
 * @module
 */

import type { Hosted } from "../hub/protocol.ts";
import { checkNumber, type DictKey, type Holdings, noMethod } from "./holdings.ts";

/** A Python `dict`: a `Map` with the dict's methods. */
export class DictCore implements Hosted {
  #map = new Map<DictKey, unknown>();
  #h: Holdings;

  /** A dict holding `entries`. */
  constructor(h: Holdings, entries: [DictKey, unknown][] = []) {
    this.#h = h;
    for (const [k, v] of entries) this.#set(k, v);
  }

  #set(k: DictKey, v: unknown): void {
    if (this.#map.has(k)) this.#h.removed(this.#map.get(k));
    this.#h.stored(v);
    this.#map.set(k, v);
  }

  #out(v: unknown): unknown {
    return this.#h.readOut(v);
  }

  /** The entries as they are held (handles marked). */
  entries(): [DictKey, unknown][] {
    return [...this.#map.entries()];
  }

  call(method: string, args: unknown[]): unknown {
    const m = this.#map;
    const [k, v] = args as [DictKey, unknown];
    switch (method) {
      case "get":
        return m.has(k) ? this.#out(m.get(k)) : args.length > 1 ? v : undefined;
      case "set":
        return this.#set(k, v);
      case "has":
        return m.has(k);
      case "delete": {
        if (!m.has(k)) return false;
        this.#h.removed(m.get(k));
        return m.delete(k);
      }
      case "pop": {
        if (!m.has(k)) {
          if (args.length > 1) return v;
          throw new RangeError(`Cannot pop from dict: no key ${String(k)}`);
        }
        // Read out before the removal, which could free what it holds.
        const old = m.get(k);
        const sent = this.#out(old);
        m.delete(k);
        this.#h.removed(old);
        return sent;
      }
      case "setdefault":
        if (!m.has(k)) this.#set(k, v);
        return this.#out(m.get(k));
      case "increment": {
        const delta = checkNumber("increment", args[1] ?? 1);
        const start = checkNumber("increment", m.has(k) ? m.get(k) : args[2] ?? 0);
        m.set(k, start + delta);
        return start + delta;
      }
      case "update":
        for (const [key, value] of args[0] as [DictKey, unknown][]) this.#set(key, value);
        return;
      case "keys":
        return [...m.keys()];
      case "values":
        return this.#out([...m.values()]);
      case "items":
        return this.#out([...m.entries()]);
      case "len":
        return m.size;
      case "clear":
        this.dispose();
        return;
    }
    throw noMethod("dict", method);
  }

  /** Drops every entry. */
  dispose(): void {
    for (const v of this.#map.values()) this.#h.removed(v);
    this.#map.clear();
  }
}
