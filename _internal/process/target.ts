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

/** What identifies an exported function across processes. */
export type TargetRef = Pick<TaskSpec, "module" | "exportName" | "fingerprint" | "kind"> & {
  /** A pool's seal on the module (see `pool/seal.ts`). */
  seal?: string;
};

type Fns = [string, AnyFn][];

function exportedFns(mod: Record<string, unknown>): Fns {
  return Object.entries(mod).filter(([, v]) => typeof v === "function") as Fns;
}

function match(fns: Fns, spec: TargetRef): AnyFn | undefined {
  const fp = fingerprint;
  const found = fns.find(([, f]) => f.name === spec.exportName && fp(f) === spec.fingerprint) ??
    fns.find(([, f]) => fp(f) === spec.fingerprint);
  return found?.[1];
}

/**
 * Finds a target among a module's exports by name and source fingerprint;
 * a `TypeError` naming the fix otherwise (see {@link locateTarget} for the
 * hint that names where a target imported from elsewhere is exported).
 */
export function findTarget(
  mod: Record<string, unknown>,
  spec: TargetRef,
  action = "start process",
): AnyFn {
  const fns = exportedFns(mod);
  const found = match(fns, spec);
  if (found) return found;
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
      `export it from that module (export { ${spec.exportName} }), or pass the module that ` +
      `exports it as the 'module' option (module: new URL("./lib.ts", import.meta.url)); ` +
      `closures and local functions cannot be targets`,
  );
}

/**
 * {@link findTarget}, and when the target is not exported from its module
 * but imported there from another one (a first program's usual mistake),
 * an error that names that module and both fixes.
 */
export async function locateTarget(
  mod: Record<string, unknown>,
  spec: TargetRef,
  action = "start process",
): Promise<AnyFn> {
  try {
    return findTarget(mod, spec, action);
  } catch (err) {
    if (spec.kind === "class" || !/is not exported from/.test((err as Error).message)) throw err;
    const from = await importedFrom(spec).catch(() => undefined);
    if (!from) throw err;
    const module = from.specifier.startsWith(".")
      ? `new URL("${from.specifier}", import.meta.url)`
      : `import.meta.resolve("${from.specifier}")`;
    throw new TypeError(
      `Cannot ${action}: the target '${spec.exportName}' is not exported from ${spec.module}; ` +
        `it is imported there from ${from.url}. Export it there ` +
        `(export { ${spec.exportName} }), or pass the module that exports it: ` +
        `module: ${module}`,
    );
  }
}

const IMPORT = /import\s+(?:type\s+)?([^;'"]*?)\s+from\s*(["'])([^"']+)\2/g;

/**
 * The module that the target's module imports the target from, read from
 * its static imports and checked (the candidate must export a function of
 * the same source). Undefined when it cannot be told (not a file, no read
 * access, imported through another module).
 */
async function importedFrom(
  spec: TargetRef,
): Promise<{ specifier: string; url: string } | undefined> {
  if (!spec.module.startsWith("file:")) return undefined;
  const source = await Deno.readTextFile(new URL(spec.module));
  const name = new RegExp(`(^|[^\\w$])${spec.exportName.replace(/\$/g, "\\$")}([^\\w$]|$)`);
  for (const [, clause, , specifier] of source.matchAll(IMPORT)) {
    if (!name.test(clause)) continue;
    const url = /^\.{0,2}\//.test(specifier)
      ? new URL(specifier, spec.module).href
      : import.meta.resolve(specifier);
    const candidate = await import(url) as Record<string, unknown>;
    if (match(exportedFns(candidate), spec)) return { specifier, url };
  }
  return undefined;
}
