/**
 * Permissions of a child: what the parent holds globally, none, or per
 * kind, turned into `deno run` flags, plus the narrow grants a child needs to
 * work at all (its hub socket, reading the modules it imports).
 *
 * @module
 */

/**
 * Per-kind permissions for a subprocess child, as in `Deno.Command`'s
 * world: `true` grants the kind, a list grants those paths or hosts,
 * `false` denies, `"inherit"` takes what the parent holds globally.
 */
export interface PermissionsObject {
  /** File system read access. */
  read?: boolean | "inherit" | readonly (string | URL)[];
  /** File system write access. */
  write?: boolean | "inherit" | readonly (string | URL)[];
  /** Network access (hosts, `unix:` paths). */
  net?: boolean | "inherit" | readonly string[];
  /** Environment variables. */
  env?: boolean | "inherit" | readonly string[];
  /** System information. */
  sys?: boolean | "inherit" | readonly string[];
  /** Running subprocesses. */
  run?: boolean | "inherit" | readonly (string | URL)[];
  /** Foreign functions. */
  ffi?: boolean | "inherit" | readonly (string | URL)[];
  /** Importing remote modules. */
  import?: boolean | "inherit" | readonly string[];
}

/** Permissions for a child: everything the parent holds, none, or per kind. */
export type Permissions = "inherit" | "none" | PermissionsObject;

/** The permission kinds. */
export const PERMISSION_KINDS = [
  "read",
  "write",
  "net",
  "env",
  "sys",
  "run",
  "ffi",
  "import",
] as const;

function globallyGranted(kind: (typeof PERMISSION_KINDS)[number]): boolean {
  try {
    return Deno.permissions.querySync(
      { name: kind } as Deno.PermissionDescriptor,
    ).state ===
      "granted";
  } catch {
    return false;
  }
}

function pathOf(p: string | URL): string {
  return p instanceof URL || p.startsWith("file:") ? decodeURIComponent(new URL(p).pathname) : p;
}

/**
 * Permission flags for a subprocess child: the requested (or inherited)
 * grants, plus the narrow grants the child needs to work at all (its hub
 * socket, reading the modules it imports).
 */
export function permissionFlags(permissions: Permissions, needs: {
  read: string[];
  write: string[];
  net: string[];
}): string[] {
  const flags: string[] = [];
  for (const kind of PERMISSION_KINDS) {
    const want = permissions === "inherit"
      ? "inherit"
      : permissions === "none"
      ? false
      : permissions[kind] ?? false;
    const granted = want === true ||
      (want === "inherit" && globallyGranted(kind));
    if (granted) {
      flags.push(`--allow-${kind}`);
      continue;
    }
    const list = Array.isArray(want) ? want.map((p) => pathOf(p)) : [];
    if (kind === "read" || kind === "write" || kind === "net") {
      list.push(...needs[kind]);
    }
    if (list.length > 0) {
      flags.push(`--allow-${kind}=${[...new Set(list)].join(",")}`);
    }
  }
  return flags;
}

/**
 * Flags that keep a narrowed child to its own module graph: without an
 * `import` grant, Deno would still let it import from its default list of
 * hosts (a way out for data, even with no `net`); `--cached-only` lets it
 * import only what is already cached (the graph its parent loaded), and
 * fetch nothing.
 */
export function sandboxFlags(permissions: Permissions, runtimeArgs: string[]): string[] {
  if (permissions === "inherit" || runtimeArgs.includes("--cached-only")) return [];
  const want = permissions === "none" ? false : permissions.import ?? false;
  return want === false ? ["--cached-only"] : [];
}
