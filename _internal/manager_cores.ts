/**
 * The objects a manager serves itself: a dict, a list (and its fixed-length
 * sibling, the manager's `Array`), a namespace and a value. Each is a
 * {@link Hosted} object in the manager process; proxies call it over the
 * object server. Every method runs to completion before the next call is
 * read, so each call is atomic: `increment` is the fix for Python's lost
 * `d[k] += 1` (a get and a set from two processes interleave).
 *
 * Values that hold handles arrive packed (descriptors); a {@link Holdings}
 * hears of them as they are stored, removed and read, so that a manager
 * object inside a dict lives while the dict holds it.
 *
 * @module
 */

import type { Hosted } from "./objects.ts";

/** Hears of values stored in, removed from and read out of a container. */
export interface Holdings {
  /** A value was stored. */
  stored(value: unknown): void;
  /** A stored value was removed. */
  removed(value: unknown): void;
  /** A stored value is sent to a caller; returns it. */
  readOut<T>(value: T): T;
}

/** Dict keys: values compared by identity, so primitives. */
export type DictKey = string | number | bigint | boolean | null | undefined;

function noMethod(kind: string, method: string): TypeError {
  return new TypeError(`Cannot call '${method}' on a managed ${kind}: no such method`);
}

function checkNumber(what: string, v: unknown): number {
  if (typeof v !== "number" || Number.isNaN(v)) {
    throw new TypeError(`Cannot ${what}: the value must be a number, received ${String(v)}`);
  }
  return v;
}

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

  #out<T>(v: T): T {
    return this.#h.readOut(v);
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
        const old = this.#out(m.get(k));
        m.delete(k);
        this.#h.removed(old);
        return old;
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

  /** Splices; what goes is read out first when `out` (sent to the caller). */
  #removeAt(start: number, count: number, insert: unknown[] = [], out = false): unknown[] {
    insert.forEach((v) => this.#h.stored(v));
    const gone = this.#items.splice(start, count, ...insert);
    if (out) this.#h.readOut(gone);
    gone.forEach((v) => this.#h.removed(v));
    return gone;
  }

  call(method: string, args: unknown[]): unknown {
    const items = this.#items;
    switch (method) {
      case "get":
        return this.#h.readOut(items[this.#index(args[0], `get list item`)]);
      case "set":
        return this.#removeAt(this.#index(args[0], `set list item`), 1, [args[1]]), undefined;
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
        return this.#removeAt(items.length, 0, args[0] as unknown[]), items.length;
      case "insert": {
        // Python's insert clamps the index instead of failing.
        let i = Number(args[0]);
        if (i < 0) i = Math.max(0, items.length + i);
        return this.#removeAt(Math.min(i, items.length), 0, [args[1]]), undefined;
      }
      case "pop": {
        if (items.length === 0) throw new RangeError("Cannot pop from list: it is empty");
        const i = this.#index(args[0] ?? -1, "pop from list");
        return this.#removeAt(i, 1, [], true)[0];
      }
      case "remove": {
        const i = items.findIndex((v) => same(v, args[0]));
        if (i < 0) throw new RangeError(`Cannot remove ${String(args[0])} from list: not in list`);
        return this.#removeAt(i, 1), undefined;
      }
      case "splice":
        return this.#removeAt(args[0] as number, args[1] as number, args[2] as unknown[], true);
      case "clear":
        return this.dispose();
    }
    throw noMethod(this.#kind, method);
  }

  /** Drops every item. */
  dispose(): void {
    this.#removeAt(0, this.#items.length);
  }
}

/** A Python `Namespace`: named attributes. */
export class NamespaceCore implements Hosted {
  #dict: DictCore;

  /** A namespace with `attrs`. */
  constructor(h: Holdings, attrs: Record<string, unknown> = {}) {
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
        return Object.fromEntries(this.#dict.call("items", []) as [string, unknown][]);
    }
    throw noMethod("namespace", method);
  }

  /** Drops every attribute. */
  dispose(): void {
    this.#dict.dispose();
  }
}

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

/** The public methods of an object: functions not starting with `_`, up its class chain. */
export function publicMethods(obj: object): string[] {
  const names = new Set<string>();
  for (let o = obj; o && o !== Object.prototype; o = Object.getPrototypeOf(o)) {
    for (const k of Object.getOwnPropertyNames(o)) {
      if (k === "constructor" || k.startsWith("_")) continue;
      const desc = Object.getOwnPropertyDescriptor(o, k);
      if (typeof desc?.value === "function") names.add(k);
    }
  }
  return [...names];
}
