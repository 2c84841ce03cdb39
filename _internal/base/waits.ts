/**
 * The one waiting convention of the API, parsed in one place. Every wait
 * takes a trailing `{ timeout, signal }` (milliseconds); where Python passes
 * a timeout positionally a bare number is accepted (`join(1500)`,
 * `poll(0.5)` → `poll(500)`), and where Python passes `block` first a
 * boolean is (`get(false)`, `acquire(false)`, `get(true, 1000)`).
 * `undefined` means for ever.
 *
 * @module
 */

import { checkOptionNames, type OptionNames, optionNames } from "./options.ts";

/** Options of a wait that always blocks: `timeout` (ms) and `signal`. */
export interface WaitOptions {
  /** Milliseconds to wait at most; no limit when absent. */
  timeout?: number;
  /** Aborts the wait: it rejects with the signal's reason. */
  signal?: AbortSignal;
}

/** Options of a wait that may not block: `block`, `timeout` (ms) and `signal`. */
export interface AcquireOptions extends WaitOptions {
  /**
   * Wait at all; `false` answers at once.
   * @default {true}
   */
  block?: boolean;
}

/** A wait's options, parsed: how long, and what aborts it. */
export type Wait = AcquireOptions;

/** The options of a wait that may not block. */
export const BLOCKING: OptionNames = optionNames("block", "timeout", "signal");
const TIMED = optionNames("timeout", "signal");
const NONE: Wait = Object.freeze({});

/**
 * Reads `(blockOrOptions?, timeoutOrOptions?)` as Python's `(block=True,
 * timeout=None)`: a boolean, a number (the timeout), an options object, or
 * a boolean then a number or options.
 *
 * @throws {TypeError} On an unknown option or a signal that is not one.
 * @throws {RangeError} On a timeout that is not a non-negative number.
 */
export function blockingWait(
  what: string,
  first: unknown,
  second?: unknown,
  known: OptionNames = BLOCKING,
): Wait {
  if (first === undefined && second === undefined) return NONE;
  let w: Wait;
  if (typeof first === "boolean") {
    w = typeof second === "object" && second !== null
      ? { ...checked(what, second, known), block: first }
      : { block: first, timeout: second as number | undefined };
  } else {
    w = typeof first === "number" ? { timeout: first } : checked(what, first, known);
  }
  return validated(what, w);
}

/**
 * Reads `(timeoutOrOptions?)` of a wait that always blocks: a number (the
 * timeout) or `{ timeout, signal }`.
 *
 * @throws {TypeError} On an unknown option or a signal that is not one.
 * @throws {RangeError} On a timeout that is not a non-negative number.
 */
export function timedWait(what: string, arg: unknown): Wait {
  if (arg === undefined || arg === null) return NONE;
  return validated(what, typeof arg === "number" ? { timeout: arg } : checked(what, arg, TIMED));
}

function checked(what: string, o: unknown, known: OptionNames): Wait {
  if (o === undefined) return NONE;
  if (typeof o !== "object" || o === null) {
    throw new TypeError(
      `Cannot ${what}: expected a timeout in milliseconds or an options object, received ${
        o === null ? "null" : typeof o
      }`,
    );
  }
  checkOptionNames(what, o, known);
  return o as Wait;
}

function validated(what: string, w: Wait): Wait {
  const t = w.timeout;
  if (t !== undefined && !(typeof t === "number" && t >= 0)) {
    throw new RangeError(
      `Cannot ${what}: 'timeout' must be a non-negative number, received ${String(t)}`,
    );
  }
  if (w.signal !== undefined && !(w.signal instanceof AbortSignal)) {
    throw new TypeError(
      `Cannot ${what}: 'signal' must be an AbortSignal, received ${typeof w.signal}`,
    );
  }
  return w;
}
