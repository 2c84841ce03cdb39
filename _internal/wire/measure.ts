/**
 * Measuring and copying values as the wire would carry them, without
 * encoding them: how many bytes a value takes (flow control counts with
 * it), and a copy of a JSON-shaped value made by hand (what a put in the
 * queue's own process stores: as if it had crossed a process).
 *
 * @module
 */

import { MAX_JSON_DEPTH } from "./codec.ts";

/** Whether an array has no own enumerable property but its elements. */
function bare(value: unknown[]): boolean {
  return Object.keys(value).length === value.length;
}

/**
 * A copy of `value` as it would arrive from another process: a structured
 * clone, made by hand for the JSON-shaped values most items are (several
 * times cheaper than `structuredClone` for a small object).
 *
 * @throws {DOMException} `DataCloneError` when it cannot be cloned.
 */
export function cloneValue<T>(value: T): T {
  const copy = jsonCopy(value, 0, false);
  return copy === NOT_JSON ? structuredClone(value) : copy as T;
}

/** What {@link jsonClone} returns for a value that is not exactly JSON. */
export const NOT_JSON: unique symbol = Symbol("not JSON");

/** What {@link jsonClone} with `plain` returns where it finds an array with other properties. */
export const NOT_BARE: unique symbol = Symbol("not a bare array");

/**
 * A copy of a value that is exactly JSON (see {@link surelyCloneable}), made
 * in the walk that checks it; {@link NOT_JSON} for any other value. With
 * `plain`, {@link NOT_BARE} (where it gets there first) for an array with
 * own properties besides its elements (JSON drops them; `checkPlain` looks
 * at them): a value it copies passes `checkPlain`, so a strict put needs no
 * walk of its own. With `size`, the walk also adds to `size.bytes` about
 * how many bytes the value takes as JSON (flow control counts with it).
 */
export function jsonClone(value: unknown, plain = false, size?: { bytes: number }): unknown {
  return jsonCopy(value, 0, plain, size);
}

function jsonCopy(
  value: unknown,
  depth: number,
  plain: boolean,
  size?: { bytes: number },
): unknown {
  switch (typeof value) {
    case "string":
      if (size) size.bytes += value.length + 2;
      return value;
    case "boolean":
      if (size) size.bytes += 5;
      return value;
    case "number":
      if (size) size.bytes += 8;
      return Number.isFinite(value) && !Object.is(value, -0) ? value : NOT_JSON;
    case "object": {
      if (size) size.bytes += value === null ? 4 : 2;
      if (value === null) return null;
      if (depth > MAX_JSON_DEPTH) return NOT_JSON;
      if (Array.isArray(value)) {
        if (plain && !bare(value)) return NOT_BARE;
        if (size) size.bytes += value.length;
        const out = new Array(value.length);
        for (let i = 0; i < value.length; i++) {
          const v = jsonCopy(value[i], depth + 1, plain, size);
          if (v === NOT_JSON || v === NOT_BARE) return v;
          out[i] = v;
        }
        return out;
      }
      const proto = Object.getPrototypeOf(value);
      if (proto !== Object.prototype && proto !== null) return NOT_JSON;
      if ("toJSON" in value) return NOT_JSON;
      const out: Record<string, unknown> = {};
      for (const key in value) {
        if (size) size.bytes += key.length + 4;
        const v = jsonCopy((value as Record<string, unknown>)[key], depth + 1, plain, size);
        if (v === NOT_JSON || v === NOT_BARE) return v;
        if (key !== "__proto__") out[key] = v;
        // An own "__proto__" stays an own property, as a clone keeps it.
        else {Object.defineProperty(out, key, {
            value: v,
            writable: true,
            enumerable: true,
            configurable: true,
          });}
      }
      return out;
    }
    default:
      return NOT_JSON;
  }
}

/** How many elements of a collection {@link sizeOf} looks at before it extrapolates. */
const SIZE_SAMPLE = 64;

/**
 * About how many bytes a value takes encoded, any value: exact for bytes
 * and strings, sampled (and extrapolated) for large collections, so that it
 * costs little whatever the value. Flow control counts with it.
 */
export function sizeOf(value: unknown, depth = 0): number {
  switch (typeof value) {
    case "string":
      return value.length + 2;
    case "number":
    case "bigint":
      return 9;
    case "object": {
      if (value === null) return 1;
      if (ArrayBuffer.isView(value)) return value.byteLength + 8;
      if (value instanceof ArrayBuffer) return value.byteLength + 8;
      if (depth > 8) return 16;
      if (value instanceof Map || value instanceof Set || Array.isArray(value)) {
        const n = value instanceof Map || value instanceof Set ? value.size : value.length;
        let sum = 0, seen = 0;
        for (const v of value instanceof Map ? value.entries() : value.values()) {
          sum += sizeOf(v, depth + 1);
          if (++seen === SIZE_SAMPLE) break;
        }
        return 4 + (seen === 0 ? 0 : Math.ceil((sum / seen) * n));
      }
      let sum = 4, seen = 0;
      for (const key in value) {
        sum += key.length + 2 + sizeOf((value as Record<string, unknown>)[key], depth + 1);
        if (++seen === SIZE_SAMPLE) break;
      }
      return sum;
    }
    default:
      return 2;
  }
}
