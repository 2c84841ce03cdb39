// Offline stand-in for the subset of `jsr:@std/assert` that this repository's
// tests use. Used by `.ci/run` (via `.ci/std/import_map.json`) when jsr.io
// cannot be reached. Names, signatures, thrown error classes and messages
// follow @std/assert 1.x; diffs in failure messages are plain line diffs.

/** Error thrown when an assertion fails. */
export class AssertionError extends Error {
  /** Constructs an AssertionError with `message` and optional `options`. */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "AssertionError";
  }
}

/** Values that `assertFalse` accepts. */
export type Falsy = false | 0 | 0n | "" | null | undefined;

/** An array-like value (`Array`, typed array, ...) that is not a string. */
export type ArrayLikeArg<T> = ArrayLike<T> & object;

/** Any constructor. */
// deno-lint-ignore no-explicit-any
export type AnyConstructor = new (...args: any[]) => any;

/** Gets the instance type of a constructor. */
export type GetConstructorType<T extends AnyConstructor> = InstanceType<T>;

// deno-lint-ignore no-explicit-any
type ErrorClass<E extends Error> = abstract new (...args: any[]) => E;

const suffix = (msg?: string): string => msg ? `: ${msg}` : ".";

// deno-lint-ignore no-control-regex
const ANSI = /\x1b\[[0-9;]*[A-Za-z]|\x1b\][^\x07]*\x07/g;
const stripAnsi = (s: string): string => s.replace(ANSI, "");

/** Renders a value like @std/internal's `format` (sorted, fully expanded). */
function format(v: unknown): string {
  return Deno.inspect(v, {
    depth: Infinity,
    sorted: true,
    trailingComma: true,
    compact: false,
    iterableLimit: Infinity,
    getters: true,
    strAbbreviateSize: Infinity,
  });
}

/** Line diff (LCS) of actual vs expected, prefixed `-   `, `+   `, `    `. */
function diffLines(a: string[], b: string[]): string[] {
  const n = a.length, m = b.length;
  if (n * m > 4_000_000) {
    return [...a.map((l) => `-   ${l}`), ...b.map((l) => `+   ${l}`)];
  }
  const lcs = Array.from(
    { length: n + 1 },
    () => new Array<number>(m + 1).fill(0),
  );
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      lcs[i][j] = a[i] === b[j] ? lcs[i + 1][j + 1] + 1 : Math.max(lcs[i + 1][j], lcs[i][j + 1]);
    }
  }
  const out: string[] = [];
  let i = 0, j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && a[i] === b[j]) {
      out.push(`    ${a[i++]}`);
      j++;
    } else if (j >= m || (i < n && lcs[i + 1][j] >= lcs[i][j + 1])) {
      out.push(`-   ${a[i++]}`);
    } else {
      out.push(`+   ${b[j++]}`);
    }
  }
  return out;
}

function diffMessage(actual: unknown, expected: unknown): string {
  const strings = typeof actual === "string" && typeof expected === "string";
  const a = strings ? actual : format(actual);
  const b = strings ? expected : format(expected);
  const lines = diffLines(a.split("\n"), b.split("\n"));
  return ["", "", "    [Diff] Actual / Expected", "", "", ...lines, ""]
    .join("\n");
}

// ---------------------------------------------------------------------------
// equal()

const isPrimitive = (x: unknown): boolean =>
  x === null || (typeof x !== "object" && typeof x !== "function");

const sameValueZero = (a: unknown, b: unknown): boolean => a === b || Object.is(a, b);

const TypedArray = Object.getPrototypeOf(Uint8Array) as abstract new () => {
  length: number;
};

// Prototypes whose instances are compared by their string form.
const STRINGY = new Set<unknown>(
  [Intl.Locale, RegExp, URL, URLSearchParams].map((c) => c.prototype),
);
{
  const temporal = (globalThis as { Temporal?: Record<string, unknown> })
    .Temporal;
  for (const name of Object.keys(temporal ?? {})) {
    const ctor = temporal?.[name];
    if (typeof ctor === "function") STRINGY.add(ctor.prototype);
  }
}

function protoEqual(a: object, b: object): boolean {
  const pa = Object.getPrototypeOf(a), pb = Object.getPrototypeOf(b);
  return pa === pb || (pa === Object.prototype && pb === null) ||
    (pa === null && pb === Object.prototype);
}

function plainOrArray(o: object): boolean {
  const p = Object.getPrototypeOf(o);
  return p === null || p === Object.prototype || p === Array.prototype;
}

/** Own keys (incl. symbols and non-enumerables) along the prototype chain. */
function keysDeep(o: object): Set<PropertyKey> {
  const keys = new Set<PropertyKey>();
  for (
    let p: object | null = o;
    p !== null && p !== Object.prototype && p !== Array.prototype;
    p = Object.getPrototypeOf(p)
  ) {
    for (const k of Reflect.ownKeys(p)) keys.add(k);
  }
  return keys;
}

function sameElements(a: ArrayLike<unknown>, b: ArrayLike<unknown>): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    if (!sameValueZero(a[i], b[i])) return false;
  }
  return true;
}

/**
 * Deep structural equality, as used by `assertEquals`: NaN equals NaN, 0
 * equals -0, Dates by time, RegExp/URL by string, typed arrays and
 * ArrayBuffers by content, Maps/Sets by deeply-equal entries, objects by
 * prototype and own (string and symbol) keys; cycles are handled.
 *
 * @param a The actual value.
 * @param b The expected value.
 * @returns Whether the values are deeply equal.
 */
export function equal(a: unknown, b: unknown): boolean {
  const seen = new Map<unknown, unknown>();
  const eq = (a: unknown, b: unknown): boolean => {
    if (sameValueZero(a, b)) return true;
    if (isPrimitive(a) || isPrimitive(b)) return false;
    if (a instanceof Date && b instanceof Date) {
      return Object.is(a.getTime(), b.getTime());
    }
    if (typeof a !== "object" || typeof b !== "object" || !a || !b) {
      return false;
    }
    if (!protoEqual(a, b)) return false;
    if (a instanceof TypedArray) {
      return sameElements(a as ArrayLike<unknown>, b as ArrayLike<unknown>);
    }
    if (
      a instanceof ArrayBuffer ||
      (typeof SharedArrayBuffer === "function" &&
        a instanceof SharedArrayBuffer)
    ) {
      return sameElements(
        new Uint8Array(a),
        new Uint8Array(b as ArrayBuffer),
      );
    }
    if (a instanceof WeakMap) {
      throw new TypeError("Cannot compare WeakMap instances");
    }
    if (a instanceof WeakSet) {
      throw new TypeError("Cannot compare WeakSet instances");
    }
    if (a instanceof WeakRef) {
      return eq(a.deref(), (b as WeakRef<WeakKey>).deref());
    }
    if (seen.get(a) === b) return true;
    if (Object.keys(a).length !== Object.keys(b).length) return false;
    seen.set(a, b);
    if (
      (a instanceof Map || a instanceof Set) &&
      (b instanceof Map || b instanceof Set)
    ) {
      if (a.size !== b.size) return false;
      const aKeys = [...a.keys()];
      if (aKeys.every(isPrimitive)) {
        if (a instanceof Set) return a.symmetricDifference(b).size === 0;
        const bm = b as Map<unknown, unknown>;
        return aKeys.every((k) => bm.has(k) && eq(a.get(k), bm.get(k)));
      }
      let unmatched = a.size;
      for (const [ak, av] of a.entries()) {
        for (const [bk, bv] of b.entries()) {
          if (eq(ak, bk) && ((ak === av && bk === bv) || eq(av, bv))) {
            unmatched--;
            break;
          }
        }
      }
      return unmatched === 0;
    }
    let keys: Iterable<PropertyKey>;
    if (plainOrArray(a)) keys = Reflect.ownKeys({ ...a, ...b });
    else if (STRINGY.has(Object.getPrototypeOf(a))) {
      return String(a) === String(b);
    } else keys = keysDeep(a).union(keysDeep(b));
    const ra = a as Record<PropertyKey, unknown>;
    const rb = b as Record<PropertyKey, unknown>;
    for (const key of keys) {
      if (!eq(ra[key], rb[key]) || (key in a) !== (key in b)) return false;
    }
    return true;
  };
  return eq(a, b);
}

// ---------------------------------------------------------------------------
// Basic assertions

/**
 * Asserts that `expr` is truthy.
 *
 * @param expr The expression to test.
 * @param msg The message of the thrown `AssertionError`.
 */
export function assert(expr: unknown, msg = ""): asserts expr {
  if (!expr) throw new AssertionError(msg);
}

/**
 * Asserts that `expr` is falsy.
 *
 * @param expr The expression to test.
 * @param msg The message of the thrown `AssertionError`.
 */
export function assertFalse(expr: unknown, msg = ""): asserts expr is Falsy {
  if (expr) throw new AssertionError(msg);
}

/**
 * Asserts that `actual` and `expected` are deeply equal (see {@link equal}).
 *
 * @param actual The actual value.
 * @param expected The expected value.
 * @param msg Optional message appended to the failure message.
 */
export function assertEquals<T>(actual: T, expected: T, msg?: string): void {
  if (equal(actual, expected)) return;
  throw new AssertionError(
    `Values are not equal${suffix(msg)}\n${diffMessage(actual, expected)}`,
  );
}

/**
 * Asserts that `actual` and `expected` are not deeply equal.
 *
 * @param actual The actual value.
 * @param expected The value `actual` must differ from.
 * @param msg Optional message appended to the failure message.
 */
export function assertNotEquals<T>(actual: T, expected: T, msg?: string): void {
  if (!equal(actual, expected)) return;
  throw new AssertionError(
    `Expected actual: ${format(actual)} not to be: ${format(expected)}${suffix(msg)}`,
  );
}

/**
 * Asserts that `actual` and `expected` are the same value (`Object.is`).
 *
 * @param actual The actual value.
 * @param expected The expected value.
 * @param msg Optional message appended to the failure message.
 */
export function assertStrictEquals<T>(
  actual: unknown,
  expected: T,
  msg?: string,
): asserts actual is T {
  if (Object.is(actual, expected)) return;
  const a = format(actual);
  if (a === format(expected)) {
    const indented = a.split("\n").map((l) => `    ${l}`).join("\n");
    throw new AssertionError(
      `Values have the same structure but are not reference-equal${suffix(msg)}\n\n${indented}\n`,
    );
  }
  throw new AssertionError(
    `Values are not strictly equal${suffix(msg)}\n${diffMessage(actual, expected)}`,
  );
}

/**
 * Asserts that `actual` and `expected` are not the same value (`Object.is`).
 *
 * @param actual The actual value.
 * @param expected The value `actual` must not be.
 * @param msg Optional message appended to the failure message.
 */
export function assertNotStrictEquals<T>(
  actual: T,
  expected: T,
  msg?: string,
): void {
  if (!Object.is(actual, expected)) return;
  throw new AssertionError(
    `Expected "actual" to not be strictly equal to: ${format(actual)}${suffix(msg)}\n`,
  );
}

/**
 * Asserts that `actual` is neither `null` nor `undefined`.
 *
 * @param actual The value to check.
 * @param msg Optional message appended to the failure message.
 */
export function assertExists<T>(
  actual: T,
  msg?: string,
): asserts actual is NonNullable<T> {
  if (actual === undefined || actual === null) {
    throw new AssertionError(
      `Expected actual: "${actual}" to not be null or undefined${suffix(msg)}`,
    );
  }
}

/**
 * Asserts that `actual` is an instance of `expectedType`.
 *
 * @param actual The value to check.
 * @param expectedType The expected class.
 * @param msg Optional message appended to the failure message.
 */
export function assertInstanceOf<
  // deno-lint-ignore no-explicit-any
  T extends abstract new (...args: any[]) => any,
>(
  actual: unknown,
  expectedType: T,
  msg = "",
): asserts actual is InstanceType<T> {
  if (actual instanceof expectedType) return;
  const want = expectedType.name;
  const got = actual === null
    ? "null"
    : actual === undefined
    ? "undefined"
    : typeof actual === "object"
    ? (actual.constructor?.name ?? "Object")
    : typeof actual;
  const detail = want === got
    ? ""
    : got === "function"
    ? " but was not an instanced object"
    : ` but was "${got}"`;
  throw new AssertionError(
    `Expected object to be an instance of "${want}"${detail}${suffix(msg)}`,
  );
}

/**
 * Asserts that `actual` is not an instance of `unexpectedType`.
 *
 * @param actual The value to check.
 * @param unexpectedType The class `actual` must not be an instance of.
 * @param msg Optional message appended to the failure message.
 */
export function assertNotInstanceOf<A, T>(
  actual: A,
  // deno-lint-ignore no-explicit-any
  unexpectedType: abstract new (...args: any[]) => T,
  msg?: string,
): asserts actual is Exclude<A, T> {
  assertFalse(
    actual instanceof unexpectedType,
    `Expected object to not be an instance of "${typeof unexpectedType}"${suffix(msg)}`,
  );
}

/**
 * Asserts that `actual` matches the RegExp `expected`.
 *
 * @param actual The string to test.
 * @param expected The pattern it must match.
 * @param msg Optional message appended to the failure message.
 */
export function assertMatch(
  actual: string,
  expected: RegExp,
  msg?: string,
): void {
  if (expected.test(actual)) return;
  throw new AssertionError(
    `Expected actual: "${actual}" to match: "${expected}"${suffix(msg)}`,
  );
}

/**
 * Asserts that `actual` does not match the RegExp `expected`.
 *
 * @param actual The string to test.
 * @param expected The pattern it must not match.
 * @param msg Optional message appended to the failure message.
 */
export function assertNotMatch(
  actual: string,
  expected: RegExp,
  msg?: string,
): void {
  if (!expected.test(actual)) return;
  throw new AssertionError(
    `Expected actual: "${actual}" to not match: "${expected}"${suffix(msg)}`,
  );
}

/**
 * Asserts that the string `actual` contains `expected`.
 *
 * @param actual The string to search.
 * @param expected The substring to find.
 * @param msg Optional message appended to the failure message.
 */
export function assertStringIncludes(
  actual: string,
  expected: string,
  msg?: string,
): void {
  if (actual.includes(expected)) return;
  throw new AssertionError(
    `Expected actual: "${actual}" to contain: "${expected}"${suffix(msg)}`,
  );
}

/**
 * Asserts that `actual` contains every value of `expected` (deep equality
 * for non-primitives).
 *
 * @param actual The array-like to search.
 * @param expected The values that must be present.
 * @param msg Optional message appended to the failure message.
 */
export function assertArrayIncludes<T>(
  actual: ArrayLikeArg<T>,
  expected: ArrayLikeArg<NoInfer<T>>,
  msg?: string,
): void {
  const haystack = Array.from(actual);
  const missing = Array.from(expected).filter((item) =>
    isPrimitive(item) ? !haystack.includes(item) : !haystack.some((v) => equal(item, v))
  );
  if (missing.length === 0) return;
  throw new AssertionError(
    `Expected actual: "${format(actual)}" to include: "${format(expected)}"${
      suffix(msg)
    }\nmissing: ${format(missing)}`,
  );
}

const isObject = (v: unknown): v is Record<PropertyKey, unknown> =>
  typeof v === "object" && v !== null;

/** The part of `a` that mirrors the shape of `b` (for assertObjectMatch). */
function project(
  a: unknown,
  b: unknown,
  seen: WeakMap<object, unknown>,
): unknown {
  if (!isObject(a) || !isObject(b) || a instanceof RegExp) return a;
  if (seen.get(a) === b) return a;
  seen.set(a, b);
  if (Array.isArray(a) && Array.isArray(b)) {
    return a.slice(0, b.length).map((v, i): unknown => project(v, b[i], seen));
  }
  if (a instanceof Map && b instanceof Map) {
    return new Map(
      [...a].filter(([k]) => b.has(k)).map(([k, v]) => [
        k,
        isObject(v) && isObject(b.get(k)) ? project(v, b.get(k), seen) : v,
      ]),
    );
  }
  if (a instanceof Set && b instanceof Set) return a.intersection(b);
  const keysA = Reflect.ownKeys(a);
  const keysB = Reflect.ownKeys(b);
  const common = keysA.filter((k) => keysB.includes(k));
  const out: Record<PropertyKey, unknown> = {};
  if (keysA.length && keysB.length && !common.length) {
    for (const k of keysA) out[k] = a[k];
  } else {
    for (const k of common) out[k] = project(a[k], b[k], seen);
  }
  return out;
}

/**
 * Asserts that `expected` is a deep subset of `actual`: only keys present in
 * `expected` are compared.
 *
 * @param actual The object to check.
 * @param expected The subset it must contain.
 * @param msg Optional message appended to the failure message.
 */
export function assertObjectMatch(
  // deno-lint-ignore no-explicit-any
  actual: Record<PropertyKey, any>,
  expected: Record<PropertyKey, unknown>,
  msg?: string,
): void {
  for (const v of [actual, expected]) {
    if (!isObject(v)) {
      throw new TypeError(
        `Cannot assertObjectMatch ${v === null ? null : `type ${typeof v}`}`,
      );
    }
  }
  assertEquals(
    project(actual, expected, new WeakMap()),
    project(expected, expected, new WeakMap()),
    msg,
  );
}

/**
 * Asserts that `actual > expected`.
 *
 * @param actual The actual value.
 * @param expected The value it must exceed.
 * @param msg Replaces the failure message when given.
 */
export function assertGreater<T>(actual: T, expected: T, msg?: string): void {
  if (actual > expected) return;
  throw new AssertionError(
    msg ?? `Expect ${format(actual)} > ${format(expected)}`,
  );
}

/**
 * Asserts that `actual >= expected`.
 *
 * @param actual The actual value.
 * @param expected The lower bound.
 * @param msg Replaces the failure message when given.
 */
export function assertGreaterOrEqual<T>(
  actual: T,
  expected: T,
  msg?: string,
): void {
  if (actual >= expected) return;
  throw new AssertionError(
    msg ?? `Expect ${format(actual)} >= ${format(expected)}`,
  );
}

/**
 * Asserts that `actual < expected`.
 *
 * @param actual The actual value.
 * @param expected The value it must be below.
 * @param msg Replaces the failure message when given.
 */
export function assertLess<T>(actual: T, expected: T, msg?: string): void {
  if (actual < expected) return;
  throw new AssertionError(
    msg ?? `Expect ${format(actual)} < ${format(expected)}`,
  );
}

/**
 * Asserts that `actual <= expected`.
 *
 * @param actual The actual value.
 * @param expected The upper bound.
 * @param msg Replaces the failure message when given.
 */
export function assertLessOrEqual<T>(
  actual: T,
  expected: T,
  msg?: string,
): void {
  if (actual <= expected) return;
  throw new AssertionError(
    msg ?? `Expect ${format(actual)} <= ${format(expected)}`,
  );
}

/**
 * Asserts that two numbers are equal within `tolerance` (default: 1e-7
 * relative to `expected`, or 1e-7 absolute when `expected` is not finite).
 *
 * @param actual The actual number.
 * @param expected The expected number.
 * @param tolerance The largest accepted absolute difference.
 * @param msg Optional message appended to the failure message.
 */
export function assertAlmostEquals(
  actual: number,
  expected: number,
  tolerance?: number,
  msg?: string,
): void {
  if (Object.is(actual, expected)) return;
  const delta = Math.abs(expected - actual);
  const tol = tolerance ??
    (isFinite(expected) ? Math.abs(expected * 1e-7) : 1e-7);
  if (delta <= tol) return;
  const f = (n: number) => Number.isInteger(n) ? n : n.toExponential();
  throw new AssertionError(
    `Expected actual: "${f(actual)}" to be close to "${f(expected)}": ` +
      `delta "${f(delta)}" is greater than "${f(tol)}"${suffix(msg)}`,
  );
}

// ---------------------------------------------------------------------------
// Errors

/**
 * Asserts that `error` is an `Error`, optionally an instance of `ErrorClass`
 * whose message includes (string) or matches (RegExp) `msgMatches`.
 *
 * @param error The value to check.
 * @param ErrorClass The class the error must be an instance of.
 * @param msgMatches Text the message must include, or a pattern it must match.
 * @param msg Optional message appended to the failure message.
 */
export function assertIsError<E extends Error = Error>(
  error: unknown,
  // deno-lint-ignore no-explicit-any
  ErrorClass?: abstract new (...args: any[]) => E,
  msgMatches?: string | RegExp,
  msg?: string,
): asserts error is E {
  const sfx = suffix(msg);
  if (!(error instanceof Error)) {
    throw new AssertionError(`Expected "error" to be an Error object${sfx}`);
  }
  if (ErrorClass && !(error instanceof ErrorClass)) {
    throw new AssertionError(
      `Expected error to be instance of "${ErrorClass.name}", but was "${error?.constructor?.name}"${sfx}`,
    );
  }
  if (!msgMatches) return;
  const text = stripAnsi(error.message);
  const ok = typeof msgMatches === "string"
    ? text.includes(stripAnsi(msgMatches))
    : msgMatches.test(text);
  if (ok) return;
  const want = typeof msgMatches === "string" ? JSON.stringify(msgMatches) : msgMatches.toString();
  throw new AssertionError(
    `Expected error message to include ${want}, but got ${JSON.stringify(error?.message)}${sfx}`,
  );
}

interface ErrorExpectation<E extends Error> {
  ErrorClass?: ErrorClass<E>;
  msgIncludes?: string;
  msg?: string;
}

function parseErrorArgs<E extends Error>(
  classOrMsg: ErrorClass<E> | string | undefined,
  msgIncludesOrMsg: string | undefined,
  msg: string | undefined,
  misuseShiftsMsg: boolean,
): ErrorExpectation<E> {
  if (typeof classOrMsg === "string") return { msg: classOrMsg };
  if (
    classOrMsg === undefined ||
    classOrMsg.prototype instanceof Error ||
    classOrMsg.prototype === Error.prototype
  ) {
    return { ErrorClass: classOrMsg, msgIncludes: msgIncludesOrMsg, msg };
  }
  return { msg: misuseShiftsMsg ? msgIncludesOrMsg : msg };
}

function checkCaught<E extends Error>(
  error: unknown,
  want: ErrorExpectation<E>,
  verb: "thrown" | "rejected",
): void {
  if (!want.ErrorClass) return;
  if (!(error instanceof Error)) {
    throw new AssertionError(
      `A non-Error object was ${verb}${suffix(want.msg)}`,
    );
  }
  assertIsError(error, want.ErrorClass, want.msgIncludes, want.msg);
}

/**
 * Runs `fn` and asserts that it throws.
 *
 * @param fn The function expected to throw.
 * @param msg Optional message appended to the failure message.
 * @returns The thrown value.
 */
export function assertThrows(fn: () => unknown, msg?: string): unknown;
/**
 * Runs `fn` and asserts that it throws an instance of `ErrorClass` whose
 * message includes `msgIncludes`.
 *
 * @param fn The function expected to throw.
 * @param ErrorClass The class the thrown error must be an instance of.
 * @param msgIncludes Text the error message must include.
 * @param msg Optional message appended to the failure message.
 * @returns The thrown error.
 */
export function assertThrows<E extends Error = Error>(
  fn: () => unknown,
  // deno-lint-ignore no-explicit-any
  ErrorClass: abstract new (...args: any[]) => E,
  msgIncludes?: string,
  msg?: string,
): E;
export function assertThrows<E extends Error = Error>(
  fn: () => unknown,
  classOrMsg?: ErrorClass<E> | string,
  msgIncludesOrMsg?: string,
  msg?: string,
): unknown {
  const want = parseErrorArgs(classOrMsg, msgIncludesOrMsg, msg, true);
  try {
    fn();
  } catch (error) {
    checkCaught(error, want, "thrown");
    return error;
  }
  throw new AssertionError(`Expected function to throw${suffix(want.msg)}`);
}

/**
 * Calls `fn` and asserts that the promise it returns rejects.
 *
 * @param fn The function returning the promise expected to reject.
 * @param msg Optional message appended to the failure message.
 * @returns The rejection reason.
 */
export function assertRejects(
  fn: () => PromiseLike<unknown>,
  msg?: string,
): Promise<unknown>;
/**
 * Calls `fn` and asserts that the promise it returns rejects with an instance
 * of `ErrorClass` whose message includes `msgIncludes`.
 *
 * @param fn The function returning the promise expected to reject.
 * @param ErrorClass The class the rejection must be an instance of.
 * @param msgIncludes Text the error message must include.
 * @param msg Optional message appended to the failure message.
 * @returns The rejection error.
 */
export function assertRejects<E extends Error = Error>(
  fn: () => PromiseLike<unknown>,
  // deno-lint-ignore no-explicit-any
  ErrorClass: abstract new (...args: any[]) => E,
  msgIncludes?: string,
  msg?: string,
): Promise<E>;
export async function assertRejects<E extends Error = Error>(
  fn: () => PromiseLike<unknown>,
  classOrMsg?: ErrorClass<E> | string,
  msgIncludesOrMsg?: string,
  msg?: string,
): Promise<unknown> {
  const want = parseErrorArgs(classOrMsg, msgIncludesOrMsg, msg, false);
  const notReject = () =>
    new AssertionError(
      `Function throws when expected to reject${suffix(want.msg)}`,
    );
  let promise: PromiseLike<unknown>;
  try {
    promise = fn();
  } catch {
    throw notReject();
  }
  if (
    !promise || typeof promise !== "object" ||
    typeof promise.then !== "function"
  ) {
    throw notReject();
  }
  try {
    await promise;
  } catch (error) {
    checkCaught(error, want, "rejected");
    return error;
  }
  throw new AssertionError(`Expected function to reject${suffix(want.msg)}`);
}

/**
 * Throws an `AssertionError` unconditionally.
 *
 * @param msg Optional message appended to "Failed assertion".
 */
export function fail(msg?: string): never {
  throw new AssertionError(`Failed assertion${suffix(msg)}`);
}

/**
 * Marks code that must never run; throws an `AssertionError`.
 *
 * @param msg Optional message appended to "Unreachable".
 */
export function unreachable(msg?: string): never {
  throw new AssertionError(`Unreachable${suffix(msg)}`);
}
