/**
 * The reaper: one small process per parent (Linux), started with the
 * parent's first subprocess child. It watches the parent through /proc;
 * once the parent is gone, however it died (SIGKILL, SIGTERM, SIGINT, an
 * uncaught error), it SIGKILLs the parent's children, whatever they are
 * doing (a child stuck in a synchronous loop never reads its own stdin's
 * end-of-file), removes the parent's socket directories, and exits. Python's `resource_tracker` is
 * the same idea.
 *
 * It holds nothing of the parent's (no pipe, no child handle), so a parent
 * never waits on it and a test's resource sanitizer never sees it: started
 * with `--launch`, it starts itself again with `--watch`, detached, and
 * exits at once; the parent waits only for that first, short process.
 *
 * The children are found by the ticket on their command lines, and only
 * those started after the parent, so a reused pid is never killed. This
 * module imports nothing: it starts in the time of a bare `deno run`.
 *
 * @module
 */

/** How often the reaper looks at its parent, in ms. */
const POLL_MS = 50;

/** Fields 3 (state) and 22 (start time) of /proc/<pid>/stat, or undefined. */
function stat(pid: number): { state: string; started: string } | undefined {
  try {
    const text = Deno.readTextFileSync(`/proc/${pid}/stat`);
    // The command name (field 2) may hold spaces and parentheses: split after it.
    const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
    return { state: fields[0], started: fields[19] };
  } catch {
    return undefined;
  }
}

/**
 * The parent's children: every process started after the parent whose
 * command line holds a ticket of the parent's (`ticket.ts`: tickets begin
 * with `{"ppid":<pid>,`). Reparented by the kernel, they are found by what
 * they carry, not by who their parent is now.
 */
function childrenOf(parent: number, born: number): number[] {
  const prefix = `{"ppid":${parent},`;
  const out: number[] = [];
  for (const e of Deno.readDirSync("/proc")) {
    const pid = Number(e.name);
    if (!Number.isInteger(pid) || pid === Deno.pid) continue;
    try {
      const args = Deno.readTextFileSync(`/proc/${pid}/cmdline`).split("\0");
      if (!args.some((a) => a.startsWith(prefix))) continue;
      const started = Number(stat(pid)?.started);
      if (started >= born) out.push(pid);
    } catch { /* gone meanwhile, or not ours to read */ }
  }
  return out;
}

/** Its socket files, then the directories if empty: never a recursive delete. */
function removeDirs(tmp: string, pid: number): void {
  if (!tmp) return;
  try {
    for (const e of Deno.readDirSync(tmp)) {
      if (!e.isDirectory || !e.name.startsWith(`denomp-${pid}-`)) continue;
      for (const f of [`${tmp}/${e.name}/s`, `${tmp}/${e.name}`]) {
        try {
          Deno.removeSync(f);
        } catch { /* gone, or holds something else: left */ }
      }
    }
  } catch { /* no such directory, or no permission */ }
}

async function watch(parent: number, tmp: string): Promise<never> {
  // The parent's death ends this process, not a signal to the parent's
  // process group (Ctrl-C reaches every process in it): cleaning up after
  // an interrupted parent is this process's whole job.
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
    try {
      Deno.addSignalListener(signal, () => {});
    } catch { /* not on this platform */ }
  }
  const born = stat(parent)?.started;
  while (true) {
    const now = stat(parent);
    if (!now || now.started !== born || now.state === "Z" || now.state === "X") break;
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
  for (const pid of childrenOf(parent, Number(born ?? 0))) {
    try {
      Deno.kill(pid, "SIGKILL");
    } catch { /* gone meanwhile */ }
  }
  removeDirs(tmp, parent);
  Deno.exit(0);
}

/**
 * Runs the reaper in this process, from its arguments: `--launch <pid>
 * <tmp> <command…>` starts `<command…> --watch <pid> <tmp>` detached and
 * exits; `--watch <pid> <tmp>` watches process `pid`.
 */
export async function runReaper(args: string[]): Promise<never> {
  const [mode, pid, tmp, ...command] = args;
  if (mode === "--watch") return await watch(Number(pid), tmp);
  try {
    new Deno.Command(command[0], {
      args: [...command.slice(1), "--watch", pid, tmp],
      stdin: "null",
      stdout: "null",
      stderr: "null",
    }).spawn();
  } catch { /* no reaper: children still exit when they read their stdin's end */ }
  Deno.exit(0);
}

if (import.meta.main) runReaper(Deno.args);
