/**
 * What the parent needs to launch a child: the child entry's URL, the task
 * a child receives, the flags that reproduce the parent's module resolution
 * and permissions in a `deno run` child, and the ticket registry children
 * present when they connect back.
 *
 * @module
 */

import type { Channel } from "./channel.ts";
import { onHubMessage } from "./hub.ts";
import { type ParentInfo, type StartMethod, state } from "./state.ts";
import type { TransportKind } from "./transport.ts";
// The child entry is imported (and so cached by JSR and embedded by
// `deno compile`); it does nothing unless it is the entry module, or the
// main thread of a compiled binary started as a child.
export { CHILD_ENTRY_URL, CHILD_MARKER, fingerprint } from "./child.ts";

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

/** What a child is told to run. */
export interface TaskSpec {
  /** URL of the module exporting the target. */
  module: string;
  /** The export's expected name (the function's or class's `name`). */
  exportName: string;
  /** Hash of the target's source. */
  fingerprint: string;
  /** A function to call, a Process subclass to instantiate and `run()`, or nothing. */
  kind: "function" | "class" | "none";
  /** Arguments for a function target. */
  args: unknown[];
  /** Own enumerable fields of a Process subclass instance. */
  fields: Record<string, unknown>;
  /** The child's process name. */
  name: string;
  /** The child's identity (its place in the tree). */
  identity: number[];
  /** Whether the child is daemonic. */
  daemon: boolean;
  /** The parent, as the child will see it. */
  parent: ParentInfo;
  /** The root's main module: the default module for the child's own children. */
  mainModule?: string;
  /** Context-wide flags for the child's own children. */
  runtimeArgs: string[];
  /** The child's hub transport. */
  transport: TransportKind;
  /** The context-wide start method, carried into the child. */
  startMethod?: StartMethod;
  /** The tree's authkey; sent only over a worker's port (a socket child proved it has it). */
  authkey?: Uint8Array;
}

/** Tickets of children that are starting: who to hand their connection to. */
const tickets = new Map<string, (channel: Channel) => void>();

onHubMessage("hello", (channel, first) => {
  const claim = tickets.get(String(first.ticket));
  if (!claim) return channel.close();
  tickets.delete(String(first.ticket));
  claim(channel);
});

/**
 * Registers a ticket; the promise resolves with the channel of the child
 * that presents it. `cancel` forgets the ticket.
 */
export function expectChild(): {
  ticket: string;
  connected: Promise<Channel>;
  cancel(): void;
} {
  const ticket = crypto.randomUUID();
  let cancel!: () => void;
  const connected = new Promise<Channel>((resolve) => {
    tickets.set(ticket, resolve);
    cancel = () => tickets.delete(ticket);
  });
  return { ticket, connected, cancel };
}

/** Finds the deno.json Deno would find for a module: walk up from its folder. */
export function findConfig(moduleUrl: string | undefined): string | undefined {
  if (!moduleUrl?.startsWith("file:")) return undefined;
  // Asked at every start; the answer does not change while a program runs.
  const cache = state().configCache;
  if (cache.has(moduleUrl)) return cache.get(moduleUrl);
  const found = searchConfig(moduleUrl);
  cache.set(moduleUrl, found);
  return found;
}

function searchConfig(moduleUrl: string): string | undefined {
  let dir = new URL(".", moduleUrl);
  while (true) {
    for (const name of ["deno.json", "deno.jsonc"]) {
      const candidate = new URL(name, dir);
      try {
        if (Deno.statSync(candidate).isFile) {
          return decodeURIComponent(candidate.pathname);
        }
      } catch {
        // Missing, or no permission to look: go on up.
      }
    }
    const up = new URL("..", dir);
    if (up.href === dir.href) return undefined;
    dir = up;
  }
}

const CONFIG_FLAGS = /^(--config|-c|--no-config)(=|$)/;

/** Flags that make a `deno run` child resolve modules as its parent does. */
export function resolutionFlags(runtimeArgs: string[]): string[] {
  const flags = ["--no-prompt", ...runtimeArgs];
  if (!runtimeArgs.some((a) => CONFIG_FLAGS.test(a))) {
    const config = findConfig(state().mainModule);
    flags.push(config ? `--config=${config}` : "--no-config");
  }
  return flags;
}

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

/** Folders a child must read to import a module (its project, the library). */
export function moduleReadPaths(moduleUrl: string): string[] {
  const paths: string[] = [];
  const config = findConfig(moduleUrl);
  if (config) paths.push(config.slice(0, config.lastIndexOf("/")) || "/");
  if (moduleUrl.startsWith("file:")) {
    paths.push(decodeURIComponent(new URL(".", moduleUrl).pathname));
  }
  if (import.meta.url.startsWith("file:")) {
    paths.push(decodeURIComponent(new URL("..", import.meta.url).pathname));
  }
  return paths;
}
