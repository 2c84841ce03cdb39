// getLogger()/logToStderr(): tracing of spawns, connections, dispatch and
// deaths, off by default, on with logToStderr() or MP_LOG (read only when
// env access is already granted); keys are never logged.
import { assert, assertEquals, assertStringIncludes, assertThrows } from "@std/assert";
import { currentProcess, getAllStartMethods, getLogger, type LogRecord, Process } from "../mod.ts";
import { denoRun, fixturePath } from "./_helpers.ts";

function checkTrace(stdout: string, stderr: string): void {
  const key = stdout.trim().split("\n")[0];
  assertEquals(key.length, 64, stdout);
  assert(!stderr.includes(key), "the authkey is never logged");
  assertStringIncludes(stderr, "/MainProcess]");
  assertStringIncludes(stderr, "starting Process-1 (subprocess)");
  assertStringIncludes(stderr, "Process-1 started");
  assertStringIncludes(stderr, "Process-1 exited with code 0");
  assert(/\[\w+\/Process-1\]/.test(stderr), `the child logs too:\n${stderr}`);
  assert(/pool worker Process-\d+ .*died with exit code 3/.test(stderr), stderr);
}

Deno.test("logToStderr(): a spawn, the child's own lines, a pool worker's death; no key", async () => {
  const { code, stdout, stderr } = await denoRun([fixturePath("log_main.ts")]);
  assertEquals(code, 0, stderr);
  checkTrace(stdout, stderr);
});

Deno.test("MP_LOG turns logging on when env access is granted, and is never asked for", async () => {
  const on = await denoRun([fixturePath("log_main.ts"), "env"], { env: { MP_LOG: "debug" } });
  checkTrace(on.stdout, on.stderr);
  const flags = ["--allow-read", "--allow-write", "--allow-net", "--allow-run"];
  const off = await denoRun([fixturePath("log_main.ts"), "env"], {
    env: { MP_LOG: "debug" },
    flags,
  });
  assertEquals(off.code, 0, off.stderr);
  assertEquals(off.stderr.includes("starting Process-1"), false, off.stderr);
});

Deno.test("getLogger(): off by default; handlers get records at or above the level", async () => {
  const log = getLogger();
  assertEquals(log.level, "off");
  const records: LogRecord[] = [];
  const remove = log.addHandler((r) => void records.push(r));
  log.level = "info";
  try {
    log.debug("not this");
    log.info("this");
    await using p = new Process({ target: () => {}, module: import.meta.url });
    assertEquals(records.map((r) => r.message), ["this"]);
    assertEquals(records[0].process, "MainProcess");
    assertThrows(() => (log.level = "loud" as never), RangeError);
    void p;
  } finally {
    log.level = "off";
    remove();
  }
});

Deno.test("getAllStartMethods() and Process.authkey (a getter, never printed)", () => {
  assertEquals(getAllStartMethods(), ["subprocess", "worker"]);
  const key = currentProcess().authkey;
  assertEquals(key.length, 32);
  key[0] ^= 0xff; // a copy: the process's key is untouched
  assert(currentProcess().authkey[0] !== key[0]);
  const shown = Deno.inspect(new Process()) + Deno.inspect(currentProcess());
  assertEquals(shown.includes("authkey"), false, shown);
});
