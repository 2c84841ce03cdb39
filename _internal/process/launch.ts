/**
 * What the parent needs to launch a `deno run` child: the flags that
 * reproduce its own module resolution (the `deno.json` Deno would find for
 * the main module, plus `runtimeArgs`), and the folders a child must read to
 * import its modules.
 *
 * @module
 */

import { state } from "../base/state.ts";
import { type Address, parseAddress } from "../transport/address.ts";
import type { TaskSpec } from "./task_spec.ts";

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

/** Folders a child must read to import a module (its project, the library). */
export function moduleReadPaths(moduleUrl: string): string[] {
  const paths: string[] = [];
  const config = findConfig(moduleUrl);
  if (config) paths.push(config.slice(0, config.lastIndexOf("/")) || "/");
  if (moduleUrl.startsWith("file:")) {
    paths.push(decodeURIComponent(new URL(".", moduleUrl).pathname));
  }
  if (import.meta.url.startsWith("file:")) {
    // The library's root: this file is in _internal/process/.
    paths.push(decodeURIComponent(new URL("../..", import.meta.url).pathname));
  }
  return paths;
}

/**
 * The sockets a sandboxed child must reach besides its parent's: the hosts
 * of the handles it was given (its grants name them), for its permissions.
 */
export function grantedHosts(spec: TaskSpec | undefined): Address[] {
  if (!spec?.kid) return [];
  return (spec.access ?? []).map((a) => parseAddress(a.address));
}

/** What a child needs to reach the sockets of `addresses`: read, write and net grants. */
export function socketsNeeds(
  addresses: Address[],
): { read: string[]; write: string[]; net: string[] } {
  const out = { read: [] as string[], write: [] as string[], net: [] as string[] };
  for (const a of addresses) {
    const n = socketNeeds(a);
    out.read.push(...n.read);
    out.write.push(...n.write);
    out.net.push(...n.net);
  }
  return out;
}

/** What a child needs to reach a hub's socket: read, write and net grants. */
export function socketNeeds(
  address: Address,
): { read: string[]; write: string[]; net: string[] } {
  return address.transport === "unix"
    ? {
      read: [address.path],
      write: [address.path],
      net: [`unix:${address.path}`],
    }
    : { read: [], write: [], net: [`${address.hostname}:${address.port}`] };
}

/** This process's command line (Linux), or undefined where it cannot be read. */
function ownCommandLine(): string[] | undefined {
  try {
    return Deno.readTextFileSync("/proc/self/cmdline").split("\0");
  } catch {
    return undefined;
  }
}

const IMPORT_FAILURE = /not a dependency|Relative import path|Module not found|Unable to load/;

/**
 * A child that failed to import its modules while this process runs with
 * `--import-map`, which a `deno run` child does not inherit (and which this
 * process could not pass on: Deno does not tell a program its own flags):
 * the error says so, and how to pass it. Other errors are returned as they are.
 */
export function withImportMapHint<E>(err: E, runtimeArgs: string[]): E {
  if (!(err instanceof Error) || !IMPORT_FAILURE.test(err.message)) return err;
  if (runtimeArgs.some((a) => a.startsWith("--import-map"))) return err;
  const args = ownCommandLine() ?? [];
  const at = args.findIndex((a) => a.startsWith("--import-map"));
  if (at < 0) return err;
  const flag = args[at].includes("=") ? args[at] : `--import-map=${args[at + 1]}`;
  const hint = `\nThis program runs with ${flag}, which a subprocess child does not inherit: ` +
    `pass it on with the runtimeArgs option (runtimeArgs: ["${flag}"]) or for every child ` +
    `with setRuntimeArgs(["${flag}"]), or use startMethod: "worker"`;
  const old = err.message;
  err.message = old + hint;
  if (typeof err.stack === "string") {
    Object.defineProperty(err, "stack", {
      value: err.stack.replace(old, err.message),
      writable: true,
      configurable: true,
    });
  }
  return err;
}
