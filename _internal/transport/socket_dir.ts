/**
 * The private directories Unix sockets live in: `denomp-<pid>-<random>` in
 * the temp dir, mode 0700, holding one socket (0600). Each is removed by
 * the process that made it (at close, at exit, on a failed listen), by its
 * reaper when that process is killed (`process/reaper_main.ts`), and otherwise by the next hub opened
 * on this machine, which sweeps the directories whose owner is gone (Python
 * leaves its `pymp-*` directories behind).
 *
 * Removal takes only what the library put there: the socket file, then the
 * directory itself if it is empty (never a recursive delete).
 *
 * @module
 */

import { isolateGlobal } from "../base/state.ts";

/** The prefix of every socket directory. */
export const SOCKET_DIR_PREFIX = "denomp-";

/** The file name of the socket in its directory. */
export const SOCKET_NAME = "s";

const OWNED = /^denomp-(\d+)-/;

/** Makes a fresh socket directory for this process (0700); returns its path. */
export function makeSocketDir(): string {
  // Synchronous: a Listener is made by a constructor, as Python's is.
  return Deno.makeTempDirSync({ prefix: `${SOCKET_DIR_PREFIX}${Deno.pid}-` });
}

/**
 * The socket directory of `socketPath` when it is one that process `pid`
 * made (`denomp-<pid>-…/s`), else undefined: another process may remove a
 * directory only if it names the process the remover started.
 */
export function socketDirOf(socketPath: string, pid: number): string | undefined {
  const m = /^(.*\/(denomp-(\d+)-[^/]+))\/s$/.exec(socketPath);
  return m && Number(m[3]) === pid ? m[1] : undefined;
}

/** Removes a socket directory: its socket, then the directory if empty. */
export function removeSocketDir(dir: string): void {
  try {
    Deno.removeSync(`${dir}/${SOCKET_NAME}`);
  } catch { /* already gone */ }
  try {
    Deno.removeSync(dir);
  } catch { /* gone, or not ours alone: left */ }
}

/** Whether the process `pid` exists; undefined where that cannot be told. */
function ownerAlive(pid: number): boolean | undefined {
  if (Deno.build.os !== "linux") return undefined;
  try {
    Deno.statSync(`/proc/${pid}`);
    return true;
  } catch (err) {
    return err instanceof Deno.errors.NotFound ? false : undefined;
  }
}

/**
 * Removes the socket directories beside `dir` whose owner process is gone
 * (killed before it or its reaper could clean up), once per isolate: they
 * are rare, and a listing of the temp dir costs about a millisecond.
 * Synchronous, so no operation outlives the call (a test's sanitizer
 * would see one).
 */
export function sweepSocketDirs(dir: string): void {
  const swept = isolateGlobal("swept", () => ({ done: false }));
  if (swept.done) return;
  swept.done = true;
  const tmp = dir.slice(0, dir.lastIndexOf("/")) || "/";
  try {
    for (const e of Deno.readDirSync(tmp)) {
      const owner = OWNED.exec(e.name)?.[1];
      if (!e.isDirectory || !owner || Number(owner) === Deno.pid) continue;
      if (ownerAlive(Number(owner)) === false) removeSocketDir(`${tmp}/${e.name}`);
    }
  } catch { /* no permission to look: nothing swept */ }
}
