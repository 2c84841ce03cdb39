/**
 * Values that would silently change on the way: structured clone copies an
 * object of a user's class as a plain object, without its prototype, so a
 * `Point` arrives without its methods and `instanceof Point` is false in
 * the child. Such a value is refused at the boundary (an argument, a queue
 * item, a task's result) with a `DataCloneError` naming the class and where
 * it sits (`args[0].point`), unless the caller opts in to plain copies
 * (`clone: "plain"`).
 *
 * Allowed: plain objects (`Object.prototype` or `null` prototype), arrays,
 * the built-ins that structured clone keeps as themselves, errors (their
 * subclasses arrive as the base class, as documented for errors), and the
 * library's own handles (queues, locks, proxies…), which travel as
 * descriptors.
 *
 * @module
 */

import { TO_DESCRIPTOR } from "../base/symbols.ts";

/**
 * How values are copied: `"strict"` refuses objects whose class would be
 * lost; `"plain"` copies them as plain data (their own enumerable fields).
 */
export type CloneMode = "strict" | "plain";

/**
 * Checks a `clone` option: `"strict"` or `"plain"` (undefined: `"strict"`).
 *
 * @throws {TypeError} On anything else.
 */
export function cloneMode(what: string, mode: unknown): CloneMode {
  if (mode === undefined || mode === "strict" || mode === "plain") return mode ?? "strict";
  throw new TypeError(
    `Cannot ${what}: 'clone' must be "strict" or "plain", received ${JSON.stringify(mode)}`,
  );
}

/** Prototypes of the built-ins structured clone rebuilds as themselves. */
const KEPT = new Set<unknown>(
  [
    Object,
    Array,
    Map,
    Set,
    Date,
    RegExp,
    ArrayBuffer,
    DataView,
    Boolean,
    Number,
    String,
    BigInt,
    Blob,
    File,
    ...(typeof SharedArrayBuffer === "function" ? [SharedArrayBuffer] : []),
    ...(typeof CryptoKey === "function" ? [CryptoKey] : []),
  ].map((c) => c.prototype),
);

/**
 * Throws a `DataCloneError` for the first object inside `value` whose class
 * structured clone would drop; `path` names `value` itself (`args`, `item`,
 * `result`). Primitives cost a `typeof`; the set that guards against
 * cycles is made only for nested objects.
 *
 * @throws {DOMException} `DataCloneError`, naming the class and the path.
 */
export function checkPlain(value: unknown, path: string): void {
  if (typeof value === "object" && value !== null) walk(value, path, undefined);
}

type Seen = Set<object> | undefined;

function walk(value: object, path: string, seen: Seen): Seen {
  if (seen?.has(value)) return seen;
  const proto = Object.getPrototypeOf(value);
  const plain = proto === Object.prototype || proto === null || Array.isArray(value);
  if (!plain && !(value instanceof Map) && !(value instanceof Set)) {
    if (
      KEPT.has(proto) || ArrayBuffer.isView(value) || value instanceof Error ||
      TO_DESCRIPTOR in value
    ) return seen;
    throw refused(value, path);
  }
  seen ??= new Set();
  seen.add(value);
  const visit = (v: unknown, at: () => string) => {
    if (typeof v === "object" && v !== null) seen = walk(v, at(), seen);
  };
  if (value instanceof Map) {
    for (const [k, v] of value) {
      visit(k, () => `${path}.keys()`);
      visit(v, () => `${path}.get(${label(k)})`);
    }
  } else if (value instanceof Set) {
    for (const v of value) visit(v, () => `${path}.values()`);
  } else {
    for (const key of Object.keys(value)) {
      visit((value as Record<string, unknown>)[key], () => child(value, path, key));
    }
  }
  return seen;
}

function child(parent: object, path: string, key: string): string {
  if (Array.isArray(parent)) return `${path}[${key}]`;
  return /^[A-Za-z_$][\w$]*$/.test(key) ? `${path}.${key}` : `${path}[${JSON.stringify(key)}]`;
}

function label(key: unknown): string {
  return typeof key === "string" ? JSON.stringify(key) : String(key);
}

function refused(value: object, path: string): DOMException {
  const name = (value.constructor as { name?: string } | undefined)?.name || "an anonymous class";
  return new DOMException(
    `Cannot clone ${path}: it is an instance of ${name}, which would arrive as a plain ` +
      `object without its prototype and methods; pass plain data (an object, an array, a ` +
      `Map…), or set clone: "plain" to copy it as plain data`,
    "DataCloneError",
  );
}
