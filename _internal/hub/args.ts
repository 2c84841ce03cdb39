/**
 * Checks of a hosted object's call arguments. A call's arguments come from
 * another process, so an object checks each one it reads before it touches
 * its state: a wrong one fails that call with a `TypeError`, and the
 * object is as it was.
 *
 * @module
 */

function shown(v: unknown): string {
  if (typeof v === "string") return `'${v.slice(0, 32)}'`;
  if (typeof v === "object") {
    return v === null ? "null" : Array.isArray(v) ? "an array" : "an object";
  }
  return String(v);
}

function bad(method: string, i: number, what: string, v: unknown): TypeError {
  return new TypeError(
    `Cannot call '${method}': argument ${i + 1} must be ${what}, received ${shown(v)}`,
  );
}

/** A timeout: `null` (no limit) or a non-negative number of milliseconds. */
export function argTimeout(args: unknown[], i: number, method: string): number | null {
  const v = args[i] ?? null;
  if (v !== null && !(typeof v === "number" && v >= 0)) {
    throw bad(method, i, "null or a non-negative number", v);
  }
  return v;
}

/** An integer from `min` to `max`. */
export function argInt(
  args: unknown[],
  i: number,
  method: string,
  min = 0,
  max = Number.MAX_SAFE_INTEGER,
): number {
  const v = args[i];
  if (typeof v !== "number" || !Number.isInteger(v) || v < min || v > max) {
    throw bad(method, i, `an integer from ${min} to ${max}`, v);
  }
  return v;
}

/** An array. */
export function argArray(args: unknown[], i: number, method: string): unknown[] {
  const v = args[i];
  if (!Array.isArray(v)) throw bad(method, i, "an array", v);
  return v;
}

/** A pipe end: 0 or 1. */
export function argEnd(args: unknown[], i: number, method: string): 0 | 1 {
  const v = args[i];
  if (v !== 0 && v !== 1) throw bad(method, i, "0 or 1", v);
  return v;
}
