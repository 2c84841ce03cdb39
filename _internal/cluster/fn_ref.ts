/**
 * How a task names its function: module, export name and a fingerprint of
 * its source, as local children do; a module under the code root travels
 * relative to it, so that each host finds its own copy under its own root.
 *
 * @module
 */

import { fingerprint, state } from "./core.ts";
import type { FnRef } from "./protocol.ts";

/** Refs already made, per function (hashing the source costs more than the call). */
export type RefCache = WeakMap<object, FnRef & { base: string }>;

/**
 * The ref of `fn`, exported by `module` (the main module by default).
 *
 * @throws {TypeError} When `fn` is not a named function, or no module is known.
 */
export function refOf(
  fn: unknown,
  module: string | URL | undefined,
  root: string,
  cache: RefCache,
): FnRef & { base: string } {
  if (typeof fn !== "function" || !fn.name) {
    throw new TypeError(
      "Cannot submit task: the function must be a named function exported from a module",
    );
  }
  const mod = String(module ?? state().mainModule ?? "");
  if (!mod) throw new TypeError("Cannot submit task: no main module is known; pass 'module'");
  const known = cache.get(fn);
  if (known && known.base === mod) return known;
  const rel = mod.startsWith(root);
  const ref = {
    module: rel ? mod.slice(root.length) : mod,
    rel,
    exportName: fn.name,
    fingerprint: fingerprint(fn),
    base: mod,
  };
  cache.set(fn, ref);
  return ref;
}
