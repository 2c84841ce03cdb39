/**
 * The memory behind `Value` and `SharedArray`: a typed array over a
 * `SharedArrayBuffer`, with Python's typecodes, and the operations other
 * processes ask its creator for.
 *
 * @module
 */

type Numeric =
  | Int8Array
  | Uint8Array
  | Int16Array
  | Uint16Array
  | Int32Array
  | Uint32Array
  | Float32Array
  | Float64Array;
type Big = BigInt64Array | BigUint64Array;
/** A typed array of any typecode. */
export type View = Numeric | Big;

/** Python's typecodes, by the typed array each stands for. */
const TYPES: Record<string, new (b: SharedArrayBuffer, o: number, n: number) => View> = {
  b: Int8Array,
  B: Uint8Array,
  h: Int16Array,
  H: Uint16Array,
  i: Int32Array,
  I: Uint32Array,
  l: BigInt64Array,
  L: BigUint64Array,
  q: BigInt64Array,
  Q: BigUint64Array,
  f: Float32Array,
  d: Float64Array,
  c: Uint8Array,
  u: Uint32Array,
};

/** The typecodes accepted. */
export const TYPECODES: readonly string[] = Object.keys(TYPES);

/** A value as users see it: a number, a bigint (`l`, `L`, `q`, `Q`) or a character (`c`, `u`). */
export type Item = number | bigint | string;

/** Words of data, shared; `ia` spans it for the hosting machinery. */
export class SharedCore {
  readonly typecode: string;
  readonly view: View;
  readonly ia: Int32Array;

  /**
   * `length` items of `typecode`, over `sab` (made, zeroed, when absent).
   * @throws {TypeError} On an unknown typecode.
   */
  constructor(typecode: string, length: number, sab?: SharedArrayBuffer) {
    const Type = TYPES[typecode];
    if (!Type) {
      throw new TypeError(
        `Cannot create shared memory: unknown typecode '${typecode}', expected one of ${
          TYPECODES.join(", ")
        }`,
      );
    }
    const bytes = Type.prototype.BYTES_PER_ELEMENT * length;
    // Whole words: the host's bookkeeping reads it as an Int32Array.
    const buffer = sab ?? new SharedArrayBuffer(Math.max(8, Math.ceil(bytes / 8) * 8));
    this.typecode = typecode;
    this.view = new Type(buffer, 0, length);
    this.ia = new Int32Array(buffer);
  }

  get length(): number {
    return this.view.length;
  }

  #index(i: unknown, what: string): number {
    if (!Number.isInteger(i) || (i as number) < 0 || (i as number) >= this.view.length) {
      throw new RangeError(
        `Cannot ${what}: index ${i} is out of range for length ${this.view.length}`,
      );
    }
    return i as number;
  }

  /** Converts a user's value to what the array stores. */
  #toRaw(v: unknown): number | bigint {
    const c = this.typecode;
    if (c === "c" || c === "u") {
      if (typeof v !== "string" || [...v].length !== 1) {
        throw new TypeError(`Cannot store in '${c}' memory: expected one character, received ${v}`);
      }
      const code = v.codePointAt(0)!;
      if (c === "c" && code > 0xff) {
        throw new RangeError(`Cannot store in 'c' memory: '${v}' is not a byte`);
      }
      return code;
    }
    if (this.view instanceof BigInt64Array || this.view instanceof BigUint64Array) {
      if (typeof v === "bigint") return v;
      if (typeof v === "number" && Number.isInteger(v)) return BigInt(v);
      throw new TypeError(`Cannot store in '${c}' memory: expected an integer, received ${v}`);
    }
    if (typeof v !== "number") {
      throw new TypeError(`Cannot store in '${c}' memory: expected a number, received ${v}`);
    }
    return v;
  }

  #fromRaw(raw: number | bigint): Item {
    const c = this.typecode;
    return c === "c" || c === "u" ? String.fromCodePoint(raw as number) : raw;
  }

  #isInt(): boolean {
    return !(this.view instanceof Float32Array || this.view instanceof Float64Array);
  }

  /** The item at `i`. */
  get(i: number): Item {
    const at = this.#index(i, "get item");
    const raw = this.#isInt() ? Atomics.load(this.view as Int32Array, at) : this.view[at];
    return this.#fromRaw(raw);
  }

  /** Stores `v` at `i`. */
  set(i: number, v: unknown): void {
    const at = this.#index(i, "set item");
    const raw = this.#toRaw(v);
    if (this.#isInt()) Atomics.store(this.view as Int32Array, at, raw as number);
    else this.view[at] = raw as number;
  }

  /** Adds `delta` at `i` atomically (integer typecodes); returns the new value. */
  add(i: number, delta: unknown): Item {
    const c = this.typecode;
    if (c === "c" || c === "u") {
      throw new TypeError(`Cannot add to '${c}' memory: it holds characters, not numbers`);
    }
    const at = this.#index(i, "add to item");
    const raw = this.#toRaw(delta);
    const view = this.view as unknown as Int32Array;
    const before = Atomics.add(view, at, raw as number) as number | bigint;
    return this.#fromRaw(wrapAdd(this.view, before, raw));
  }

  /** Items `start` to `end` (exclusive), as a plain array. */
  slice(start = 0, end = this.view.length): Item[] {
    return Array.from(
      this.view.subarray(start, end) as ArrayLike<number | bigint>,
      (r) => this.#fromRaw(r),
    );
  }

  /** Stores `values` from `start` on. */
  setSlice(start: number, values: unknown[]): void {
    if (!Array.isArray(values)) {
      throw new TypeError(`Cannot set items: expected an array, received ${values}`);
    }
    if (!Number.isInteger(start) || start < 0 || start + values.length > this.view.length) {
      throw new RangeError(
        `Cannot set items: ${values.length} items at ${start} do not fit in length ${this.view.length}`,
      );
    }
    const raws = values.map((v) => this.#toRaw(v));
    for (let k = 0; k < raws.length; k++) (this.view as Int32Array)[start + k] = raws[k] as number;
  }

  /** Runs a call from a process that does not share the memory. */
  call(method: string, args: unknown[]): unknown {
    switch (method) {
      case "get":
        return this.get(args[0] as number);
      case "set":
        return this.set(args[0] as number, args[1]);
      case "add":
        return this.add(args[0] as number, args[1]);
      case "slice":
        return this.slice(args[0] as number | undefined, args[1] as number | undefined);
      case "setSlice":
        return this.setSlice(args[0] as number, args[1] as unknown[]);
    }
    throw new TypeError(`Cannot call '${method}' on shared memory`);
  }
}

/** The value after an atomic add, computed as the array wraps it. */
function wrapAdd(view: View, before: number | bigint, delta: number | bigint): number | bigint {
  const one = new (view.constructor as new (n: number) => View)(1);
  (one as Int32Array)[0] = (before as number) + (delta as number);
  return one[0];
}
