/**
 * `Value` and `SharedArray`: Python's `multiprocessing.Value` and `Array`,
 * over a `SharedArrayBuffer`.
 *
 * The creating process and its worker children share the memory itself;
 * subprocess children, which cannot, read and write it through the creator.
 * Either way the API is the same and async. Typecodes are Python's:
 * `b B h H i I` (integers of 8 to 32 bits), `l L q Q` (64-bit integers, as
 * `bigint`), `f d` (floats), `c` (a byte, as a one-character string) and
 * `u` (a character).
 *
 * Like Python's, a value carries a lock ({@link Value.getLock}) for
 * read-modify-write sequences; `get` and `set` alone do not take it. Unlike
 * Python's `v.value += 1`, which loses updates between processes,
 * {@link Value.add} is atomic (with `Atomics.add` on integers, under the lock
 * on floats) and {@link Value.update} runs a function under the lock.
 *
 * @example A counter shared with a worker child
 * ```ts
 * import { Process, Value } from "@mp/multiprocessing";
 * import { increment } from "@mp/multiprocessing/targets";
 * import { assertEquals } from "@std/assert";
 *
 * const module = import.meta.resolve("@mp/multiprocessing/targets");
 *
 * await using counter = new Value("i", 0);
 * await using p = new Process({ target: increment, args: [counter, 100], module, startMethod: "worker" });
 * await p.start();
 * await counter.add(1);
 * await p.join();
 * assertEquals(await counter.get(), 101);
 * ```
 *
 * @module
 */

import {
  describe,
  type Descriptor,
  type PackContext,
  registerReviver,
  reviveKind,
} from "./_internal/hub/handles.ts";
import { TO_DESCRIPTOR } from "./_internal/base/symbols.ts";
import { type Item, SharedCore } from "./_internal/primitives/shared_core.ts";
import { linkFrom, SyncLink } from "./_internal/primitives/sync_link.ts";
import { Lock, RLock } from "./synchronize/lock.ts";

export type { Item };

/** Options of {@link Value} and {@link SharedArray}. */
export interface SharedOptions {
  /**
   * The lock that guards it: `true` for a new {@link RLock}, `false` for
   * none, or a lock to share.
   * @default {true}
   */
  lock?: boolean | Lock;
}

const REVIVE = Symbol("revive");
type Revived = [SyncLink, number, Lock | null];

function lockFor(what: string, lock: SharedOptions["lock"]): Lock | null {
  if (lock === undefined || lock === true) return new RLock();
  if (lock === false) return null;
  if (lock instanceof Lock) return lock;
  throw new TypeError(
    `Cannot create ${what}: 'lock' must be a boolean or a Lock, received ${lock}`,
  );
}

/**
 * Shared memory of a typecode: what {@link Value} and {@link SharedArray}
 * have in common.
 *
 * @example Every shared block is a SharedMemory
 * ```ts
 * import { SharedArray, SharedMemory } from "@mp/multiprocessing/shared";
 * import { assert } from "@std/assert";
 *
 * await using arr = new SharedArray("B", 4);
 * assert(arr instanceof SharedMemory);
 * ```
 */
export abstract class SharedMemory {
  #link: SyncLink;
  #core: SharedCore | undefined;
  #scratch: SharedCore | undefined;
  #lock: Lock | null;
  #ownsLock = false;
  #length: number;
  /** The typecode. */
  readonly typecode: string;

  /**
   * Memory for `length` items of `typecode`, holding `init` when given.
   *
   * @param what What is made, for error messages (`"value"`, `"shared array"`).
   * @param typecode The items' typecode (`"i"`, `"d"`…; see the module's documentation).
   * @param length The number of items.
   * @param options The lock that guards it ({@link SharedOptions}).
   * @param init The initial items; left out, every item is zero.
   * @throws {TypeError} On an unknown typecode or items of the wrong type.
   */
  protected constructor(
    what: string,
    typecode: string,
    length: number,
    options: SharedOptions,
    init?: unknown[],
  ) {
    const from = (options as { [REVIVE]?: Revived })[REVIVE];
    this.typecode = typecode;
    if (from) {
      [this.#link, this.#length, this.#lock] = from;
      this.#core = this.#link.core as SharedCore | undefined;
      return;
    }
    const core = new SharedCore(typecode, length);
    if (init) core.setSlice(0, init);
    this.#lock = lockFor(what, options.lock);
    this.#ownsLock = !(options.lock instanceof Lock);
    this.#length = length;
    this.#core = core;
    this.#link = new SyncLink(core);
  }

  /** The number of items. */
  get length(): number {
    return this.#length;
  }

  /**
   * The lock that guards this memory.
   *
   * @returns The lock: the one given at creation, or the {@link RLock} made then.
   * @throws {TypeError} When it was created with `lock: false`.
   */
  getLock(): Lock {
    if (!this.#lock) throw new TypeError("Cannot get lock: this memory was created without one");
    return this.#lock;
  }

  /**
   * Runs an operation on the memory, here or in its creator.
   *
   * @param method The operation: `"get"`, `"set"`, `"add"`, `"slice"` or `"setSlice"`.
   * @param args Its arguments (the index first, where it takes one).
   * @returns What the operation returned.
   */
  protected async op(method: string, args: unknown[]): Promise<unknown> {
    if (this.#core) return this.#core.call(method, args);
    if (method === "set" || method === "setSlice") {
      // Checked here against a scratch copy, a write cannot fail in the
      // creator: it need not wait for it (later calls still come after).
      this.#scratch ??= new SharedCore(this.typecode, this.#length);
      this.#scratch.call(method, args);
      return await this.#link.ref().post(method, args);
    }
    return await this.#link.call(method, args);
  }

  /**
   * Adds atomically (see {@link Value.add}).
   *
   * @param i The item's index.
   * @param delta What to add: a `bigint` or an integer for 64-bit typecodes, else a number.
   * @returns The new value.
   */
  protected async addAt(i: number, delta: number | bigint): Promise<Item> {
    if (this.typecode === "f" || this.typecode === "d") {
      // Floats have no atomic add: read, add and write under the lock. The
      // rest add where the memory is (characters are refused there).
      return await this.getLock().withLock(async () => {
        const v = await this.op("get", [i]) as number;
        await this.op("set", [i, v + (delta as number)]);
        return v + (delta as number);
      });
    }
    return await this.op("add", [i, delta]) as Item;
  }

  /**
   * Describes this handle for another process.
   *
   * @ignore
   */
  async [TO_DESCRIPTOR](ctx?: PackContext): Promise<Descriptor> {
    const lock = this.#lock ? await describe(this.#lock, ctx) : null;
    return this.#link.describe("shared", ctx, {
      typecode: this.typecode,
      length: this.#length,
      lock,
      array: this instanceof SharedArray,
    });
  }

  /**
   * In the creating process: stops serving the memory (and the lock it
   * made itself) to other processes.
   */
  async [Symbol.asyncDispose](): Promise<void> {
    this.#link.release();
    // A lock it was given may guard other things: that one stays.
    if (this.#ownsLock) await this.#lock?.[Symbol.asyncDispose]();
  }
}

/**
 * One shared number (or character), as Python's `multiprocessing.Value`.
 *
 * @example A shared number, updated atomically
 * ```ts
 * import { Value } from "@mp/multiprocessing/shared";
 * import { assertEquals } from "@std/assert";
 *
 * await using v = new Value("d", 1.5);
 * await v.set(2.5);
 * assertEquals(await v.add(1), 3.5);
 * assertEquals(await v.update((x) => (x as number) * 2), 7);
 * ```
 */
export class Value extends SharedMemory {
  /**
   * Creates a value of `typecode`, set to `initial`.
   *
   * @param typecode The typecode: `"i"`, `"d"`, `"q"`… (see the module's documentation).
   * @param initial The initial value; left out, 0 (for `"c"` and `"u"`, the character `"\0"`).
   * @param options The lock that guards it; left out, a new {@link RLock}.
   * @throws {TypeError} On an unknown typecode, or an initial value of the wrong type.
   */
  constructor(typecode: string, initial: Item = 0, options: SharedOptions = {}) {
    const c = typecode === "c" || typecode === "u";
    super("value", typecode, 1, options, [c && initial === 0 ? "\0" : initial]);
  }

  /**
   * The value.
   *
   * @returns The value: a number, a `bigint` (64-bit typecodes) or a one-character string.
   */
  async get(): Promise<Item> {
    return await this.op("get", [0]) as Item;
  }

  /**
   * Sets the value.
   *
   * @param value The new value, of the typecode's type.
   * @throws {TypeError} When `value` is of the wrong type.
   */
  async set(value: Item): Promise<void> {
    await this.op("set", [0, value]);
  }

  /**
   * Adds `delta` atomically and resolves the new value: with `Atomics.add`
   * for integers, under the lock for floats.
   *
   * @param delta What to add: a `bigint` or an integer for 64-bit typecodes, else a number.
   * @returns The new value.
   * @throws {TypeError} On a `"c"` or `"u"` value (characters), or a `delta` of the wrong type.
   */
  add(delta: number | bigint): Promise<Item> {
    return this.addAt(0, delta);
  }

  /**
   * Replaces the value with `fn(value)` under the lock; resolves the new value.
   *
   * @param fn Computes the new value from the current one (synchronously).
   * @returns The new value.
   * @throws {TypeError} When the value was created with `lock: false`.
   */
  async update(fn: (value: Item) => Item): Promise<Item> {
    return await this.getLock().withLock(async () => {
      const next = fn(await this.get());
      await this.set(next);
      return next;
    });
  }
}

/**
 * A fixed-length shared array, as Python's `multiprocessing.Array`.
 *
 * @example Prefix sums in place
 * ```ts
 * import { SharedArray } from "@mp/multiprocessing/shared";
 * import { assertEquals } from "@std/assert";
 *
 * await using arr = new SharedArray("i", [1, 2, 3, 4]);
 * for (let i = 1; i < arr.length; i++) {
 *   await arr.set(i, (await arr.get(i - 1) as number) + (await arr.get(i) as number));
 * }
 * assertEquals(await arr.slice(), [1, 3, 6, 10]);
 * ```
 */
export class SharedArray extends SharedMemory {
  /**
   * Creates an array of `typecode`: `sizeOrInit` zeroed items, or a copy of
   * the given items.
   *
   * @param typecode The items' typecode: `"i"`, `"d"`, `"B"`… (see the module's documentation).
   * @param sizeOrInit The number of items (each zero), or the initial items.
   * @param options The lock that guards it; left out, a new {@link RLock}.
   * @throws {TypeError} On an unknown typecode or items of the wrong type.
   * @throws {RangeError} On a negative or non-integer size.
   */
  constructor(typecode: string, sizeOrInit: number | Item[], options: SharedOptions = {}) {
    const from = (options as { [REVIVE]?: Revived })[REVIVE];
    const init = Array.isArray(sizeOrInit) ? sizeOrInit : undefined;
    const size = init ? init.length : sizeOrInit as number;
    if (!from && (!Number.isInteger(size) || size < 0)) {
      throw new RangeError(
        `Cannot create shared array: size must be a non-negative integer, received ${size}`,
      );
    }
    super("shared array", typecode, size, options, init);
  }

  /**
   * The item at `i`.
   *
   * @param i The index, from 0.
   * @returns The item.
   * @throws {RangeError} When `i` is out of range.
   */
  async get(i: number): Promise<Item> {
    return await this.op("get", [i]) as Item;
  }

  /**
   * Sets the item at `i`.
   *
   * @param i The index, from 0.
   * @param value The item, of the typecode's type.
   * @throws {RangeError} When `i` is out of range.
   * @throws {TypeError} When `value` is of the wrong type.
   */
  async set(i: number, value: Item): Promise<void> {
    await this.op("set", [i, value]);
  }

  /**
   * Adds `delta` to item `i` atomically (see {@link Value.add}); resolves the new value.
   *
   * @param i The index, from 0.
   * @param delta What to add: a `bigint` or an integer for 64-bit typecodes, else a number.
   * @returns The item's new value.
   * @throws {RangeError} When `i` is out of range.
   * @throws {TypeError} On a `"c"` or `"u"` array (characters), or a `delta` of the wrong type.
   */
  add(i: number, delta: number | bigint): Promise<Item> {
    return this.addAt(i, delta);
  }

  /**
   * Items `start` to `end` (exclusive; all by default) as a plain array.
   * As `Array.prototype.slice`, a negative index counts from the end and
   * one out of range is clamped; `get`, `set` and `add` take only an index
   * in range.
   *
   * @param start The first index; left out, 0.
   * @param end The index after the last; left out, the length.
   * @returns A local copy of the items.
   */
  async slice(start?: number, end?: number): Promise<Item[]> {
    return await this.op("slice", [start, end]) as Item[];
  }

  /**
   * Stores `values` from index `start` on.
   *
   * @param start The index of the first one.
   * @param values The items, of the typecode's type.
   * @throws {RangeError} When they do not fit.
   * @throws {TypeError} When an item is of the wrong type.
   */
  async setSlice(start: number, values: Item[]): Promise<void> {
    await this.op("setSlice", [start, values]);
  }
}

registerReviver("shared", async (d) => {
  const { typecode, length, array } = d.extra as {
    typecode: string;
    length: number;
    array: boolean;
  };
  const lock = d.extra?.lock ? await reviveKind(d.extra.lock, "lock") as Lock : null;
  const link = linkFrom(
    d,
    (ia) => new SharedCore(typecode, length, ia.buffer as SharedArrayBuffer),
  );
  const token = { [REVIVE]: [link, length, lock] as Revived } as SharedOptions;
  return array ? new SharedArray(typecode, length, token) : new Value(typecode, 0, token);
});
