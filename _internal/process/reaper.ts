/**
 * The parent's side of the reaper (see `reaper_main.ts`): started once, with
 * the first subprocess child, and waited for only while that first child
 * starts (its launcher exits at once; the reaper itself runs detached and
 * holds nothing of this process). Linux only: it watches /proc. It needs to
 * kill other processes; where this process cannot run programs, there is
 * none, and children still exit on their stdin's end-of-file when they next
 * read it, and socket directories are swept by the next hub.
 *
 * @module
 */

import { isolateGlobal, standaloneLauncher } from "../base/state.ts";
import { acquireHub, hubAddress } from "../hub/hub.ts";
import { REAPER_MARKER } from "./ticket.ts";

const REAPER_URL = new URL("./reaper_main.ts", import.meta.url).href;

/** Where the hub's socket directories are made, when there is one. */
function tempDirOfHub(): string {
  const a = hubAddress();
  if (a?.transport !== "unix") return "";
  return a.path.replace(/\/[^/]+\/[^/]+$/, "");
}

/** The command that runs the reaper with `args`. */
function command(args: string[]): string[] {
  const launcher = standaloneLauncher();
  if (launcher) return [...launcher, REAPER_MARKER, ...args];
  // It reads other processes' /proc entries (Deno asks --allow-all for
  // those), kills processes and removes socket files; it imports nothing
  // and runs nothing of the user's.
  return [
    Deno.execPath(),
    "run",
    "--no-prompt",
    "--no-config",
    "--quiet",
    "--allow-all",
    REAPER_URL,
    ...args,
  ];
}

async function launch(): Promise<void> {
  if (Deno.build.os !== "linux") return;
  // The hub is open, so that its directory says where this process's socket
  // directories are (a child's start opens it anyway; one whose arguments
  // hold no handle had not yet: a manager's socket directory, made by its
  // owner, was then left behind when the owner was killed).
  const hub = await acquireHub().catch(() => undefined);
  try {
    if (Deno.permissions.querySync({ name: "run" }).state !== "granted") return;
    const watcher = command([]);
    const [cmd, ...args] = command(["--launch", String(Deno.pid), tempDirOfHub(), ...watcher]);
    await new Deno.Command(cmd, { args, stdin: "null", stdout: "null", stderr: "null" }).output();
  } catch {
    // No reaper: children still exit when they read their stdin's end.
  } finally {
    hub?.release();
  }
}

/**
 * Resolves once this process has a reaper (or cannot have one): the first
 * call starts it; a subprocess start waits for it beside its own work.
 */
export function ensureReaper(): Promise<void> {
  return isolateGlobal("reaper", () => launch());
}
