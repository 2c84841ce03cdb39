/**
 * Proxies to the objects a manager serves: typed handles with explicit
 * methods, every one async. A proxy travels as its manager's address and the
 * object's id (as an argument of a Process or a Pool task, or inside a value
 * stored in another proxy) and reconnects wherever it is revived.
 *
 * @module
 */

import {
  type Descriptor,
  hasHandles,
  packHandles,
  registerReviver,
  reviveHandles,
} from "../_internal/hub/handles.ts";
import { TO_DESCRIPTOR } from "../_internal/base/symbols.ts";
import type { ObjectRef } from "../_internal/hub/protocol.ts";
import { refFor } from "../_internal/hub/refs.ts";
import type { DictKey } from "../_internal/manager/holdings.ts";
import "../_internal/manager/refcount.ts";

export type { DictKey };

const INIT = Symbol("proxy init");

// Set by BaseProxy's static block: subclasses reach the reference.
let refOf: (p: BaseProxy) => ObjectRef;

function pack<T>(v: T): T | Promise<T> {
  return hasHandles(v) ? packHandles(v) : v;
}

async function out<T>(p: Promise<unknown>): Promise<T> {
  const v = await p;
  return (typeof v === "object" && v !== null ? await reviveHandles(v) : v) as T;
}

/**
 * What every proxy shares: it can travel, and it names the object it
 * reaches. Proxies are made by a manager's factories, never constructed.
 */
export class BaseProxy {
  #ref: ObjectRef;
  #d: Descriptor;

  /** @internal Proxies come from a manager's factories. */
  constructor(init: never) {
    const d = (init as { [INIT]?: Descriptor })?.[INIT];
    if (!d) {
      throw new TypeError(
        "Cannot construct a proxy: proxies are made by a manager (await manager.dict(), ...)",
      );
    }
    this.#d = d;
    this.#ref = refFor(d.address, d.id);
  }

  /** The object's id in its manager. */
  get id(): string {
    return this.#d.id;
  }

  /** @internal Describes this proxy for another process. */
  [TO_DESCRIPTOR](): Promise<Descriptor> {
    const { kind, module, address, id, extra } = this.#d;
    return Promise.resolve(
      extra ? { kind, module, address, id, extra } : { kind, module, address, id },
    );
  }

  static {
    refOf = (p) => p.#ref;
  }
}

function call(p: BaseProxy, method: string, args: unknown[]): Promise<unknown> {
  return refOf(p).call(method, args);
}

/**
 * A proxy to a dict in a manager: Python's `DictProxy`, with `Map`-like
 * method names. Keys are primitives (strings, numbers…); values cross by
 * structured clone, and may hold other proxies and handles.
 *
 * `await d.set(k, (await d.get(k)) + 1)` from two processes loses updates
 * (the two gets may both run before either set), as `d[k] += 1` does in
 * Python; {@link DictProxy.increment} does it in one atomic call.
 *
 * @typeParam K The keys' type.
 * @typeParam V The values' type.
 *
 * @example
 * ```ts
 * import { Manager } from "../manager.ts";
 * import { assertEquals } from "@std/assert";
 *
 * await using manager = await Manager.start();
 * const d = await manager.dict<string, number>({ a: 1 });
 * await d.set("b", 2);
 * assertEquals(await d.increment("a", 10), 11);
 * assertEquals(await d.items(), [["a", 11], ["b", 2]]);
 * ```
 */
export class DictProxy<K extends DictKey = string, V = unknown> extends BaseProxy {
  /** The value at `key`, or `fallback` (default `undefined`) when absent. */
  get(key: K, fallback?: V): Promise<V | undefined> {
    return out(call(this, "get", arguments.length > 1 ? [key, fallback] : [key]));
  }

  /** Sets `key` to `value`. */
  async set(key: K, value: V): Promise<void> {
    await call(this, "set", [key, await pack(value)]);
  }

  /** Whether `key` is present. */
  async has(key: K): Promise<boolean> {
    return await call(this, "has", [key]) as boolean;
  }

  /** Removes `key`; resolves whether it was present. */
  async delete(key: K): Promise<boolean> {
    return await call(this, "delete", [key]) as boolean;
  }

  /**
   * Removes `key` and resolves its value, or `fallback` when absent.
   *
   * @throws {RangeError} When `key` is absent and no fallback is given.
   */
  pop(key: K, fallback?: V): Promise<V> {
    return out(call(this, "pop", arguments.length > 1 ? [key, fallback] : [key]));
  }

  /** The value at `key`, set to `value` first when absent. */
  async setdefault(key: K, value: V): Promise<V> {
    return await out(call(this, "setdefault", [key, await pack(value)]));
  }

  /**
   * Adds `delta` to the number at `key` (`initial` when absent) in one
   * atomic call and resolves the sum: no update is lost however many
   * processes increment at once.
   *
   * @throws {TypeError} When the value is not a number.
   */
  async increment(key: K, delta = 1, initial = 0): Promise<number> {
    return await call(this, "increment", [key, delta, initial]) as number;
  }

  /** Sets every entry of `entries` (a Map, an array of pairs or an object) in one call. */
  async update(entries: Map<K, V> | [K, V][] | Record<string, V>): Promise<void> {
    const pairs = entries instanceof Map || Array.isArray(entries)
      ? [...entries]
      : Object.entries(entries);
    await call(this, "update", [await pack(pairs)]);
  }

  /** The keys, in insertion order. */
  async keys(): Promise<K[]> {
    return await call(this, "keys", []) as K[];
  }

  /** The values, in insertion order. */
  values(): Promise<V[]> {
    return out(call(this, "values", []));
  }

  /** The `[key, value]` pairs, in insertion order. */
  items(): Promise<[K, V][]> {
    return out(call(this, "items", []));
  }

  /** The number of entries. */
  async len(): Promise<number> {
    return await call(this, "len", []) as number;
  }

  /** Removes every entry. */
  async clear(): Promise<void> {
    await call(this, "clear", []);
  }

  /** A copy of the dict, as a local `Map`. */
  async copy(): Promise<Map<K, V>> {
    return new Map(await this.items());
  }
}

/**
 * A proxy to a list in a manager: Python's `ListProxy`. Indexes may be
 * negative (from the end), as in Python.
 *
 * @typeParam T The items' type.
 *
 * @example
 * ```ts
 * import { Manager } from "../manager.ts";
 * import { assertEquals } from "@std/assert";
 *
 * await using manager = await Manager.start();
 * const l = await manager.list([3, 1]);
 * await l.extend([2]);
 * await l.sort();
 * assertEquals(await l.toArray(), [1, 2, 3]);
 * assertEquals(await l.get(-1), 3);
 * assertEquals(await l.slice(1), [2, 3]);
 * ```
 */
export class ListProxy<T = unknown> extends BaseProxy {
  /**
   * The item at `index`.
   *
   * @throws {RangeError} When `index` is out of range.
   */
  get(index: number): Promise<T> {
    return out(call(this, "get", [index]));
  }

  /** Sets the item at `index`. */
  async set(index: number, value: T): Promise<void> {
    await call(this, "set", [index, await pack(value)]);
  }

  /** Items `start` to `end` (exclusive; negative from the end), as `Array.slice`. */
  slice(start?: number, end?: number): Promise<T[]> {
    return out(call(this, "slice", end === undefined ? [start] : [start, end]));
  }

  /** Removes `deleteCount` items at `start`, inserts `items` there, resolves the removed ones. */
  async splice(start: number, deleteCount: number, ...items: T[]): Promise<T[]> {
    return await out(call(this, "splice", [start, deleteCount, await pack(items)]));
  }

  /** Adds an item at the end; resolves the new length. */
  async append(item: T): Promise<number> {
    return await call(this, "append", [await pack(item)]) as number;
  }

  /** Adds items at the end in one call; resolves the new length. */
  async extend(items: Iterable<T>): Promise<number> {
    return await call(this, "extend", [await pack([...items])]) as number;
  }

  /** Inserts an item before `index` (clamped to the list, as in Python). */
  async insert(index: number, item: T): Promise<void> {
    await call(this, "insert", [index, await pack(item)]);
  }

  /**
   * Removes and resolves the item at `index` (default: the last).
   *
   * @throws {RangeError} When the list is empty or `index` out of range.
   */
  pop(index?: number): Promise<T> {
    return out(call(this, "pop", index === undefined ? [] : [index]));
  }

  /**
   * Removes the first item equal to `value`.
   *
   * @throws {RangeError} When no item is equal.
   */
  async remove(value: T): Promise<void> {
    await call(this, "remove", [value]);
  }

  /**
   * The index of the first item equal to `value`.
   *
   * @throws {RangeError} When no item is equal.
   */
  async index(value: T): Promise<number> {
    return await call(this, "index", [value]) as number;
  }

  /** How many items equal `value`. */
  async count(value: T): Promise<number> {
    return await call(this, "count", [value]) as number;
  }

  /** The number of items. */
  async len(): Promise<number> {
    return await call(this, "len", []) as number;
  }

  /** Sorts numbers or strings in place, ascending (descending with `reverse`). */
  async sort(options: { reverse?: boolean } = {}): Promise<void> {
    await call(this, "sort", [options.reverse ?? false]);
  }

  /** Reverses the list in place. */
  async reverse(): Promise<void> {
    await call(this, "reverse", []);
  }

  /** Removes every item. */
  async clear(): Promise<void> {
    await call(this, "clear", []);
  }

  /** A copy of the items, as a local array. */
  toArray(): Promise<T[]> {
    return out(call(this, "toArray", []));
  }
}

/**
 * A proxy to a namespace in a manager: Python's `Namespace`, with explicit
 * `get`/`set` instead of attribute access.
 *
 * @example
 * ```ts
 * import { Manager } from "../manager.ts";
 * import { assertEquals } from "@std/assert";
 *
 * await using manager = await Manager.start();
 * const ns = await manager.Namespace({ x: 1 });
 * await ns.set("y", "two");
 * assertEquals(await ns.toObject(), { x: 1, y: "two" });
 * ```
 */
export class NamespaceProxy extends BaseProxy {
  /** The attribute `name`, or `undefined`. */
  get<T = unknown>(name: string): Promise<T | undefined> {
    return out(call(this, "get", [name]));
  }

  /** Sets the attribute `name`. */
  async set(name: string, value: unknown): Promise<void> {
    await call(this, "set", [name, await pack(value)]);
  }

  /** Whether the attribute `name` is set. */
  async has(name: string): Promise<boolean> {
    return await call(this, "has", [name]) as boolean;
  }

  /** Removes the attribute `name`; resolves whether it was set. */
  async delete(name: string): Promise<boolean> {
    return await call(this, "delete", [name]) as boolean;
  }

  /** Every attribute, as a local object. */
  toObject(): Promise<Record<string, unknown>> {
    return out(call(this, "toObject", []));
  }
}

/**
 * A proxy to a value in a manager (`manager.Value(typecode, value)`); the
 * type code is kept as data, as Python's manager keeps it.
 *
 * @example
 * ```ts
 * import { Manager } from "../manager.ts";
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

  /** The value. */
  get(): Promise<T> {
    return out(call(this, "get", []));
  }

  /** Sets the value. */
  async set(value: T): Promise<void> {
    await call(this, "set", [await pack(value)]);
  }

  /**
   * Adds `delta` to a numeric value in one atomic call; resolves the sum.
   * (`v.set((await v.get()) + 1)` from two processes loses updates.)
   */
  async increment(delta = 1): Promise<number> {
    return await call(this, "increment", [delta]) as number;
  }
}

/**
 * A proxy to a fixed-length array in a manager (`manager.Array(typecode,
 * items)`): Python's `ArrayProxy`.
 *
 * @example
 * ```ts
 * import { Manager } from "../manager.ts";
 * import { assertEquals } from "@std/assert";
 *
 * await using manager = await Manager.start();
 * const a = await manager.Array("i", [1, 2, 3]);
 * await a.set(0, 10);
 * assertEquals(await a.toArray(), [10, 2, 3]);
 * assertEquals(await a.len(), 3);
 * ```
 */
export class ArrayProxy<T = number> extends BaseProxy {
  /** The type code given at creation. */
  get typecode(): string {
    return extraOf(this).typecode as string;
  }

  /** The item at `index` (negative from the end). */
  get(index: number): Promise<T> {
    return out(call(this, "get", [index]));
  }

  /** Sets the item at `index`. */
  async set(index: number, value: T): Promise<void> {
    await call(this, "set", [index, await pack(value)]);
  }

  /** Items `start` to `end` (exclusive). */
  slice(start?: number, end?: number): Promise<T[]> {
    return out(call(this, "slice", end === undefined ? [start] : [start, end]));
  }

  /** The length. */
  async len(): Promise<number> {
    return await call(this, "len", []) as number;
  }

  /** A copy of the items, as a local array. */
  toArray(): Promise<T[]> {
    return out(call(this, "toArray", []));
  }
}

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
    return await out(call(this, method, await pack(args) as unknown[]));
  }
}

const EXTRA = new WeakMap<BaseProxy, Record<string, unknown>>();

function extraOf(p: BaseProxy): Record<string, unknown> {
  return EXTRA.get(p) ?? {};
}

function reviver(Cls: new (init: never) => BaseProxy) {
  return (d: Descriptor) => {
    const p = new Cls({ [INIT]: d } as never);
    if (d.extra) EXTRA.set(p, d.extra);
    return p;
  };
}

registerReviver("mp.dict", reviver(DictProxy));

registerReviver("mp.list", reviver(ListProxy));

registerReviver("mp.namespace", reviver(NamespaceProxy));

registerReviver("mp.value", reviver(ValueProxy));

registerReviver("mp.array", reviver(ArrayProxy));

registerReviver("mp.object", reviver(ObjectProxy));

/** This module's URL: proxy descriptors name it. */
export const PROXIES_URL: string = import.meta.url;
