/**
 * Paths into a value: where its handles are, as they travel beside it. A
 * path is a list of steps from the value's root: an array index (a number
 * from 0), a plain object's own key (a string), or a Map entry (a negative
 * number, `-(position + 1)` in the Map's order). A path that arrives is
 * data from another process: its shape is checked here, and following it
 * checks every container on its way.
 *
 * @module
 */

/** One step of a {@link Path}. */
export type Step = number | string;

/** Where a handle is inside a value: steps from its root (`[]`: the value itself). */
export type Path = Step[];

/** How deep handles are looked for (and so how long a path may be). */
export const MAX_DEPTH = 8;

/** The most handles one value may carry. */
export const MAX_HANDLES = 4096;

/** Longest object key accepted in a path. */
const MAX_KEY = 1024;

/** Whether `v` is a plain object (what JSON and structured clone make of one). */
export function isPlain(v: unknown): v is Record<string, unknown> {
  if (typeof v !== "object" || v === null) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

function bad(what: string): TypeError {
  return new TypeError(`Cannot revive handles: ${what}`);
}

function isStep(s: unknown): s is Step {
  return typeof s === "number"
    ? Number.isSafeInteger(s)
    : typeof s === "string" && s.length <= MAX_KEY && s !== "__proto__";
}

/**
 * The paths of a message, checked for shape: an array of at most
 * {@link MAX_HANDLES} paths, each at most {@link MAX_DEPTH} steps.
 *
 * @throws {TypeError} When they are malformed.
 */
export function checkPaths(v: unknown): Path[] {
  if (!Array.isArray(v) || v.length > MAX_HANDLES) throw bad("the handle paths are malformed");
  for (const p of v) {
    if (!Array.isArray(p) || p.length > MAX_DEPTH || !p.every(isStep)) {
      throw bad("a handle path is malformed");
    }
  }
  return v as Path[];
}

function nthKey(m: Map<unknown, unknown>, i: number): unknown {
  let n = 0;
  for (const k of m.keys()) if (n++ === i) return k;
  throw bad("a handle path leads past the end of a Map");
}

/** The child of `c` at step `s`, checked. */
function childOf(c: unknown, s: Step): unknown {
  if (typeof s === "string") {
    if (!isPlain(c) || !Object.hasOwn(c, s)) throw bad("a handle path leads nowhere");
    return c[s];
  }
  if (s >= 0) {
    if (!Array.isArray(c) || s >= c.length) throw bad("a handle path leads nowhere");
    return c[s];
  }
  if (!(c instanceof Map)) throw bad("a handle path leads nowhere");
  return c.get(nthKey(c, -s - 1));
}

function setChild(c: unknown, s: Step, v: unknown): void {
  if (typeof s === "string") {
    Object.defineProperty(c, s, { value: v, writable: true, enumerable: true, configurable: true });
  } else if (s >= 0) (c as unknown[])[s] = v;
  else (c as Map<unknown, unknown>).set(nthKey(c as Map<unknown, unknown>, -s - 1), v);
}

/** The container of the place `path` names, and the last step (undefined for the root). */
function parentOf(value: unknown, path: Path): [unknown, Step | undefined] {
  let c = value;
  for (let i = 0; i < path.length - 1; i++) c = childOf(c, path[i]);
  return [c, path.length > 0 ? path[path.length - 1] : undefined];
}

/**
 * Replaces what is at `path` inside `value` by `fn` of it (in place);
 * returns the value (the replacement itself for the empty path).
 *
 * @throws {TypeError} When the path does not lead to a place in the value.
 */
export async function replaceAt(
  value: unknown,
  path: Path,
  fn: (v: unknown) => unknown,
): Promise<unknown> {
  const [c, last] = parentOf(value, path);
  if (last === undefined) return await fn(value);
  setChild(c, last, await fn(childOf(c, last)));
  return value;
}

/** {@link replaceAt} with a synchronous `fn`. */
export function replaceAtSync(value: unknown, path: Path, fn: (v: unknown) => unknown): unknown {
  const [c, last] = parentOf(value, path);
  if (last === undefined) return fn(value);
  setChild(c, last, fn(childOf(c, last)));
  return value;
}
