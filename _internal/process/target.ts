/**
 * Targets: exported functions identified across processes by module URL,
 * export name and a fingerprint of their source, found again in the child
 * among the module's exports (a `TypeError` naming the fix otherwise).
 *
 * @module
 */

import type { TaskSpec } from "./task_spec.ts";

/** FNV-1a over a function's source: identifies a target without importing it. */
export function fingerprint(fn: { toString(): string }): string {
  const src = fn.toString();
  let h = 0x811c9dc5;
  for (let i = 0; i < src.length; i++) {
    h ^= src.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0).toString(16).padStart(8, "0") + src.length.toString(16);
}

/** Any function. */
// deno-lint-ignore no-explicit-any
export type AnyFn = (...args: any[]) => unknown;

/** Finds the target among the module's exports by name and source fingerprint. */
/** What identifies an exported function across processes. */
export type TargetRef = Pick<TaskSpec, "module" | "exportName" | "fingerprint" | "kind"> & {
  /** A pool's seal on the module (see `pool/seal.ts`). */
  seal?: string;
};

/**
 * Finds a target among a module's exports by name and source fingerprint;
 * a `TypeError` naming the fix otherwise.
 */
export function findTarget(
  mod: Record<string, unknown>,
  spec: TargetRef,
  action = "start process",
): AnyFn {
  const fp = fingerprint;
  const fns = Object.entries(mod).filter(([, v]) => typeof v === "function") as [string, AnyFn][];
  const byName = fns.find(([, f]) => f.name === spec.exportName && fp(f) === spec.fingerprint) ??
    fns.find(([, f]) => fp(f) === spec.fingerprint);
  if (byName) return byName[1];
  const what = spec.kind === "class" ? "Process subclass" : "target";
  const sameName = fns.find(([k, f]) => k === spec.exportName || f.name === spec.exportName);
  if (sameName) {
    throw new TypeError(
      `Cannot ${action}: the ${what} '${spec.exportName}' differs from the export '${
        sameName[0]
      }' of ${spec.module}: pass the exported function itself, not a closure or a copy of it`,
    );
  }
  throw new TypeError(
    `Cannot ${action}: the ${what} '${spec.exportName}' is not exported from ${spec.module}: ` +
      `export it from that module, or pass the module that exports it as the 'module' option ` +
      `(module: import.meta.url); closures and local functions cannot be targets`,
  );
}
