/**
 * A managed list, and with `fixed` the manager's `Array`: Python's list
 * methods, negative indexes included.
 *
 * @module
 */

import type { Hosted } from "../hub/protocol.ts";
import { type Holdings, noMethod } from "./holdings.ts";

function same(a: unknown, b: unknown): boolean {
  if (Object.is(a, b)) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  // Values crossed by structured clone: compare them as data.
  try {
    return JSON.stringify(a) === JSON.stringify(b);
  } catch {
    return false;
  }
}

function compare(a: unknown, b: unknown): number {
  if (typeof a === "number" && typeof b === "number") return a - b;
  if (typeof a === "string" && typeof b === "string") return a < b ? -1 : a > b ? 1 : 0;
  if (typeof a === "bigint" && typeof b === "bigint") return a < b ? -1 : a > b ? 1 : 0;
  throw new TypeError(
    `Cannot sort list: only numbers, strings or bigints of one type compare, received ${typeof a} and ${typeof b}`,
  );
}

/** A Python `list`, or with `fixed` a manager `Array` (no change of length). */
export class ListCore implements Hosted {
  #items: unknown[];
  #h: Holdings;
  #fixed: boolean;
  #kind: string;

  /** A list of `items`. */
  constructor(h: Holdings, items: unknown[] = [], fixed = false) {
    this.#h = h;
    this.#fixed = fixed;
    this.#kind = fixed ? "array" : "list";
    this.#items = [...items];
    for (const v of this.#items) h.stored(v);
  }

  #index(i: unknown, what: string, len = this.#items.length): number {
    if (!Number.isInteger(i)) {
      throw new TypeError(`Cannot ${what}: the index must be an integer, received ${String(i)}`);
    }
    const n = (i as number) < 0 ? (i as number) + len : i as number;
    if (n < 0 || n >= len) {
      throw new RangeError(`Cannot ${what}: index ${i} is out of range (length ${len})`);
    }
    return n;
  }

  #grow(method: string): void {
    if (this.#fixed) throw noMethod(this.#kind, method);
  }

  /**
   * Splices; with `out`, what goes is read out first (before its removal
   * could free what it holds) and `out` of it is returned as sent.
   */
  #removeAt(
    start: number,
    count: number,
    insert: unknown[] = [],
    out?: (gone: unknown[]) => unknown,
  ): unknown {
    insert.forEach((v) => this.#h.stored(v));
    const gone = this.#items.splice(start, count, ...insert);
    const sent = out ? this.#h.readOut(out(gone)) : undefined;
    gone.forEach((v) => this.#h.removed(v));
    return sent;
  }

  call(method: string, args: unknown[]): unknown {
    const items = this.#items;
    switch (method) {
      case "get":
        return this.#h.readOut(items[this.#index(args[0], `get list item`)]);
      case "set":
        return void this.#removeAt(this.#index(args[0], `set list item`), 1, [args[1]]);
      case "len":
        return items.length;
      case "slice":
        return this.#h.readOut(items.slice(args[0] as number, args[1] as number | undefined));
      case "toArray":
        return this.#h.readOut(items.slice());
      case "index": {
        const i = items.findIndex((v) => same(v, args[0]));
        if (i < 0) throw new RangeError(`Cannot find the index of ${String(args[0])}: not in list`);
        return i;
      }
      case "count":
        return items.filter((v) => same(v, args[0])).length;
      case "includes":
        return items.some((v) => same(v, args[0]));
      case "reverse":
        items.reverse();
        return;
      case "sort": {
        items.sort(compare);
        if (args[0]) items.reverse();
        return;
      }
    }
    this.#grow(method);
    switch (method) {
      case "append":
        this.#h.stored(args[0]);
        items.push(args[0]);
        return items.length;
      case "extend":
        this.#removeAt(items.length, 0, args[0] as unknown[]);
        return items.length;
      case "insert": {
        // Python's insert clamps the index instead of failing.
        let i = Number(args[0]);
        if (i < 0) i = Math.max(0, items.length + i);
        return void this.#removeAt(Math.min(i, items.length), 0, [args[1]]);
      }
      case "pop": {
        if (items.length === 0) throw new RangeError("Cannot pop from list: it is empty");
        const i = this.#index(args[0] ?? -1, "pop from list");
        return this.#removeAt(i, 1, [], (gone) => gone[0]);
      }
      case "remove": {
        const i = items.findIndex((v) => same(v, args[0]));
        if (i < 0) throw new RangeError(`Cannot remove ${String(args[0])} from list: not in list`);
        return void this.#removeAt(i, 1);
      }
      case "splice":
        return this.#removeAt(
          args[0] as number,
          args[1] as number,
          args[2] as unknown[],
          (gone) => gone,
        );
      case "clear":
        return this.dispose();
    }
    throw noMethod(this.#kind, method);
  }

  /** Drops every item. */
  dispose(): void {
    void this.#removeAt(0, this.#items.length);
  }
}
