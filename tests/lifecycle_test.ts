// Whole programs, started with `deno run` and signalled or failed from
// outside: nothing they start outlives them, and nothing is left in the
// temp dir. Descendants are found through /proc and polled until gone.
import { assert, assertEquals, assertStringIncludes } from "@std/assert";
import {
  denoRun,
  descendants,
  fixturePath,
  START_METHODS,
  startFixture,
  survivors,
  tempDir,
} from "./_helpers.ts";
import { REAPER_MARKER } from "../_internal/process/ticket.ts";

/**
 * Whether a program ends by itself within a guard against hangs (not a
 * timing); one that does not is killed.
 */
async function endsByItself(child: Deno.ChildProcess, guardMs = 15_000): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const ended = await Promise.race([
    child.status.then(() => true),
    new Promise<false>((r) => (timer = setTimeout(r, guardMs, false))),
  ]);
  clearTimeout(timer);
  if (!ended) child.kill("SIGKILL");
  await child.status;
  return ended;
}

/** The socket directories (`denomp-*`) in `dir`. */
async function socketDirs(dir: string): Promise<string[]> {
  const out: string[] = [];
  for await (const e of Deno.readDir(dir)) if (e.name.startsWith("denomp-")) out.push(e.name);
  return out;
}

/**
 * The socket directories under `dir` still there once the reaper has had
 * `guardMs` to remove them: a parent that is killed leaves its cleanup to
 * its reaper, which polls for the parent's death and may find its children
 * already gone (they read EOF on stdin). A guard, not a timing.
 */
async function socketDirsLeft(dir: string, guardMs = 15_000): Promise<string[]> {
  const deadline = performance.now() + guardMs;
  let left = await socketDirs(dir);
  while (left.length > 0 && performance.now() < deadline) {
    await new Promise((r) => setTimeout(r, 25));
    left = await socketDirs(dir);
  }
  return left;
}

Deno.test("a start that fails for lack of --allow-net leaves no socket directory", async () => {
  await using tmp = await tempDir();
  const { stdout, stderr } = await denoRun([fixturePath("no_net_main.ts")], {
    flags: ["--allow-read", "--allow-write", "--allow-run", "--allow-env"],
    env: { TMPDIR: tmp.path },
  });
  assertStringIncludes(stdout, "start failed", stderr);
  assertEquals(await socketDirs(tmp.path), []);
});

Deno.test("a hub that opens sweeps the socket directories of processes that are gone", async () => {
  await using tmp = await tempDir();
  const dead = new Deno.Command("true").spawn();
  await dead.status;
  const stale = `${tmp.path}/denomp-${dead.pid}-stale`;
  await Deno.mkdir(stale, { mode: 0o700 });
  await Deno.writeTextFile(`${stale}/s`, "");
  const { stdout, stderr } = await denoRun([fixturePath("start_child_main.ts")], {
    env: { TMPDIR: tmp.path },
  });
  assertStringIncludes(stdout, "exit 0", stderr);
  assertEquals(await socketDirs(tmp.path), []);
});

for (const kind of ["spin", "idle", "pool", "tree"]) {
  for (const signal of ["SIGKILL", "SIGTERM", "SIGINT", "SIGHUP", "SIGQUIT"] as const) {
    Deno.test(`a parent killed by ${signal} leaves no child alive and no socket directory (${kind} children) [subprocess]`, async () => {
      await using tmp = await tempDir();
      const run = await startFixture("orphans_main.ts", [kind], { env: { TMPDIR: tmp.path } });
      try {
        assertStringIncludes(run.line, "ready");
        const pids = descendants(run.child.pid);
        assert(pids.length >= 2, `children found: ${pids}`);
        Deno.kill(run.child.pid, signal); // the parent alone, not its group
        await run.child.status;
        assertEquals(await survivors(pids), []);
        assertEquals(await socketDirsLeft(tmp.path), []);
      } finally {
        await run.stdout.cancel();
      }
    });
  }
}

/** The pids of reapers watching `parent` (their command lines say so). */
function reapersOf(parent: number): number[] {
  const out: number[] = [];
  for (const e of Deno.readDirSync("/proc")) {
    const pid = Number(e.name);
    if (!Number.isInteger(pid)) continue;
    try {
      const args = Deno.readTextFileSync(`/proc/${pid}/cmdline`).split("\0");
      const at = args.indexOf("--watch");
      if (args.includes(REAPER_MARKER) && at >= 0 && args[at + 1] === String(parent)) out.push(pid);
    } catch { /* gone meanwhile */ }
  }
  return out;
}

Deno.test("a compiled program killed by SIGKILL: its reaper, started as the binary, kills its stuck children and removes its socket directory [subprocess]", async () => {
  await using tmp = await tempDir();
  const run = await startFixture("standalone_orphans_main.ts", [], { env: { TMPDIR: tmp.path } });
  try {
    assertStringIncludes(run.line, "ready");
    const children = descendants(run.child.pid);
    assert(children.length >= 2, `children found: ${children}`);
    // Started from the binary's own main module with the reaper's marker.
    const reapers = reapersOf(run.child.pid);
    assertEquals(reapers.length, 1, "one reaper watches the program");
    const cmdline = Deno.readTextFileSync(`/proc/${reapers[0]}/cmdline`);
    assertStringIncludes(cmdline, "standalone_orphans_main.ts");
    Deno.kill(run.child.pid, "SIGKILL");
    await run.child.status;
    // Children stuck in a synchronous loop never read their stdin's end:
    // only the reaper ends them; then it exits itself.
    assertEquals(await survivors([...children, ...reapers]), []);
    assertEquals(await socketDirsLeft(tmp.path), []);
  } finally {
    await run.stdout.cancel();
  }
});

for (const method of START_METHODS) {
  Deno.test(`a Pool never closed does not keep its program alive, nor outlive it [${method}]`, async () => {
    await using tmp = await tempDir();
    const run = await startFixture("pool_unclosed_main.ts", [method], {
      env: { TMPDIR: tmp.path },
    });
    try {
      assertEquals(run.line, "[1,4,9]");
      const pids = descendants(run.child.pid);
      assert(await endsByItself(run.child), "the program was still running after 15 s");
      assertEquals(await survivors(pids), []);
      assertEquals(await socketDirs(tmp.path), []);
    } finally {
      await run.stdout.cancel();
    }
  });
}

for (const kind of ["process", "pool"]) {
  Deno.test(`a terminated ${kind} worker stuck in a synchronous loop does not keep its program alive [worker]`, async () => {
    const run = await startFixture("stuck_main.ts", [kind]);
    try {
      assertEquals(run.line, kind === "pool" ? "stuck task: ProcessError" : "exit -15");
      assert(await endsByItself(run.child), "the program was still running after 15 s");
    } finally {
      await run.stdout.cancel();
    }
  });
}

for (const method of START_METHODS) {
  Deno.test(`warm spares neither keep their program alive nor outlive it [${method}]`, async () => {
    await using tmp = await tempDir();
    const run = await startFixture("warm_main.ts", [method], { env: { TMPDIR: tmp.path } });
    try {
      assertEquals(run.line, "exit 0");
      const pids = descendants(run.child.pid);
      assert(await endsByItself(run.child), "the program was still running after 15 s");
      assertEquals(await survivors(pids), []);
      assertEquals(await socketDirs(tmp.path), []);
    } finally {
      await run.stdout.cancel();
    }
  });
}
