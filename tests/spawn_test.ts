// The spawn protocol, tested through whole programs run with `deno run`:
// top-level await, the import.meta.main guard, parent death, daemons at exit,
// a simulated compiled binary, stderr, and runtime flags.
import {
  assert,
  assertEquals,
  assertMatch,
  assertRejects,
  assertStringIncludes,
  assertThrows,
} from "@std/assert";
import { delay } from "@std/async";
import {
  denoRun,
  fixturePath,
  pidAlive,
  START_METHODS,
  startFixture,
  tempDir,
  testBoth,
} from "./_helpers.ts";
import { encodeLaunchKey, readLaunchKey } from "../_internal/process/launch_key.ts";
import {
  newStartNonce,
  reportFailed,
  reportStarted,
  type StartReport,
  StartScanner,
} from "../_internal/process/start_report.ts";
import { setLimits } from "../_internal/wire/limits.ts";
import { failureData } from "../_internal/process/popen_subprocess.ts";
import { ProcessError } from "../_internal/base/errors.ts";
import { encode } from "../_internal/wire/codec.ts";
import { LOADING, RUNNING } from "./fixtures/stderr_bytes.ts";
import { Process } from "../mod.ts";
import { exitWith, sleep } from "./fixtures/targets.ts";
import { fingerprint } from "../_internal/process/target.ts";
import type { TaskSpec } from "../_internal/process/task_spec.ts";

Deno.test("a program that starts processes from top-level await works", async () => {
  const { code, stdout, stderr } = await denoRun([
    fixturePath("tla_main.ts"),
    ...START_METHODS,
  ]);
  assertEquals(code, 0, stderr);
  assertMatch(
    stdout,
    /hello subprocess from Process-1\nexit 0\nhello worker from Process-2\nexit 0\n/,
  );
});

testBoth(
  "unguarded top-level start in the main module is refused in the child, without a loop",
  async (method) => {
    const { code, stdout, stderr } = await denoRun([
      fixturePath("unguarded_main.ts"),
      method,
    ]);
    assertEquals(code, 0, stderr);
    assertStringIncludes(
      stdout,
      "start failed: ProcessError: An attempt has been made to start a new process",
    );
    assertStringIncludes(stdout, "bootstrapping phase");
    assertStringIncludes(stdout, "if (import.meta.main)");
    assert(!stdout.includes("work ran"), "the target never ran");
  },
);

testBoth(
  "a throwing target prints its stack on the child's stderr and exits 1",
  async (method) => {
    const { code, stdout, stderr } = await denoRun([
      fixturePath("stderr_parent.ts"),
      method,
    ]);
    assertEquals(code, 0);
    assertEquals(stdout.trim(), "exit 1");
    assertStringIncludes(stderr, "Process Process-1:");
    assertStringIncludes(stderr, "TypeError: boom from the child");
    assertMatch(stderr, /at fail \(file:.*targets\.ts:\d+:\d+\)/);
  },
);

/** Runs orphan_parent.ts, kills it with SIGKILL, returns the child's pid. */
async function killParentOfChild(
  method: string,
  daemon: string,
): Promise<number> {
  const { child: parent, line: text, stdout: reader } = await startFixture("orphan_parent.ts", [
    method,
    daemon,
  ]);
  const pid = Number(/child (\d+)/.exec(text)?.[1]);
  parent.kill("SIGKILL");
  await parent.status;
  await reader.cancel();
  return pid;
}

for (const daemon of ["daemon", "non-daemon"]) {
  Deno.test(`a subprocess child (${daemon}) exits within 2 s when its parent is killed with SIGKILL`, async () => {
    const pid = await killParentOfChild("subprocess", daemon);
    assert(pid > 0);
    const deadline = performance.now() + 2000;
    while (pidAlive(pid) && performance.now() < deadline) await delay(25);
    assert(!pidAlive(pid), `child ${pid} outlived its parent`);
  });
}

Deno.test("a worker child dies with its parent's process", async () => {
  const pid = await killParentOfChild("worker", "non-daemon");
  assert(
    !pidAlive(pid),
    "the worker ran in the parent's process, which is gone",
  );
});

Deno.test("at exit a daemonic child is terminated and a non-daemonic one joined", async () => {
  await using dir = await tempDir();
  const { code, stdout, stderr } = await denoRun([
    fixturePath("exit_parent.ts"),
    dir.path,
  ]);
  assertEquals(code, 0, stderr);
  assertEquals(await Deno.readTextFile(`${dir.path}/joined`), "done");
  const pid = Number(/daemon (\d+)/.exec(stdout)?.[1]);
  const deadline = performance.now() + 2000;
  while (pidAlive(pid) && performance.now() < deadline) await delay(25);
  assert(!pidAlive(pid), "the daemonic child was terminated");
});

Deno.test("a compiled-binary launch (marker arguments, main module as entry) runs a target from the main module", async () => {
  const { code, stdout, stderr } = await denoRun([
    fixturePath("standalone_main.ts"),
  ]);
  assertEquals(code, 0, stderr);
  assertStringIncludes(stdout, "compiled child Process-1 got 5 main=false");
  assertStringIncludes(stdout, "exit 5");
});

Deno.test("runtimeArgs pass an import map the parent was given on to its children", async () => {
  const map = `--import-map=${fixturePath("import_map.json")}`;
  const script = fixturePath("mapped_main.ts");
  const withArgs = await denoRun([map, script, "with-args"]);
  assertEquals(withArgs.code, 0, withArgs.stderr);
  assertStringIncludes(
    withArgs.stdout,
    "child: resolved through the import map",
  );
  assertStringIncludes(withArgs.stdout, "exit 0");
  const without = await denoRun([map, script]);
  assertStringIncludes(
    without.stdout,
    `start failed: Import "mp-mapped-fixture" not a dependency`,
  );
});

testBoth(
  "permissions sandbox a child: none, a read grant, inherit",
  async (method) => {
    await using dir = await tempDir();
    const secret = `${dir.path}/secret.txt`;
    await Deno.writeTextFile(secret, "s");
    const { code, stdout, stderr } = await denoRun([
      "--unstable-worker-options",
      fixturePath("permissions_main.ts"),
      method,
      secret,
    ]);
    assertEquals(code, 0, stderr);
    assertEquals(stdout.trim().split("\n"), [
      `"none" exit 1`,
      `{"read":["${dir.path}"]} exit 0`,
      `"inherit" exit 0`,
    ]);
    assertStringIncludes(stderr, "NotCapable");
  },
);

Deno.test("children see the parent's Deno.args (as Python's see sys.argv), both start methods and pools", async () => {
  const { code, stdout, stderr } = await denoRun([
    fixturePath("args_main.ts"),
    "a",
    "b c",
    "--flag",
  ]);
  assertEquals(code, 0, stderr);
  const args = JSON.stringify(["a", "b c", "--flag"]);
  for (const method of ["subprocess", "worker"]) {
    assertStringIncludes(stdout, `${method}: [${args},${args}]`);
    assertStringIncludes(stdout, `pool ${method}: ${args}`);
  }
});

/** A stream that hands out `chunks`, one per read, then its end; counts the reads. */
function chunked(chunks: Uint8Array[]) {
  let reads = 0;
  return {
    reads: () => reads,
    read: (p: Uint8Array): Promise<number | null> => {
      reads++;
      const c = chunks.shift();
      if (!c) return Promise.resolve(null);
      assert(c.length <= p.length, "a read asked for fewer bytes than the message has");
      p.set(c);
      return Promise.resolve(c.length);
    },
  };
}

// Subprocess only: a worker child has no command line.
Deno.test("a cold-started child's command line names no hub of its parent, nor grants a sandboxed one its socket", async () => {
  const module = new URL("./fixtures/targets.ts", import.meta.url);
  for (const permissions of ["inherit", "none"] as const) {
    await using p = new Process({ target: sleep, args: [60_000], module, permissions });
    await p.start();
    const argv = Deno.readTextFileSync(`/proc/${p.pid}/cmdline`).split("\0");
    const ticket = JSON.parse(argv.findLast((a) => a.startsWith('{"ppid":'))!);
    assertEquals(ticket, { ppid: Deno.pid, stdin: true }, JSON.stringify(permissions));
    // The hub's socket directories are made under the temp dir as denomp-*.
    assert(!argv.some((a) => a.includes("denomp-")), argv.join(" "));
    p.kill();
    await p.join();
  }
});

Deno.test("launch key: read in one read when it is there, or in pieces; an early end is null; a malformed one is refused", async () => {
  const key = crypto.getRandomValues(new Uint8Array(32));
  const bytes = encodeLaunchKey(key, "c:abc");
  const whole = chunked([bytes]);
  assertEquals(await readLaunchKey(whole.read), { key, kid: "c:abc" });
  assertEquals(whole.reads(), 1);
  const pieces = chunked([...bytes].map((b) => new Uint8Array([b])));
  assertEquals(await readLaunchKey(pieces.read), { key, kid: "c:abc" });
  assertEquals(pieces.reads(), bytes.length);
  assertEquals(await readLaunchKey(chunked([bytes.subarray(0, 10)]).read), null);
  assertEquals(await readLaunchKey(chunked([]).read), null);
  const huge = new Uint8Array(8);
  new DataView(huge.buffer).setUint32(0, 1 << 20);
  await assertRejects(() => readLaunchKey(chunked([huge]).read), TypeError, "malformed");
  const trailing = new Uint8Array([...bytes, 1]);
  await assertRejects(() => readLaunchKey(chunked([trailing]).read), TypeError, "malformed");
});

Deno.test("launch key with a task: read whole, in one read or in pieces; what is cut short is null; a task past the limit or trailing bytes are refused", async () => {
  const key = crypto.getRandomValues(new Uint8Array(32));
  const payload = crypto.getRandomValues(new Uint8Array(300));
  const task = { nonce: newStartNonce(), payload };
  const bytes = encodeLaunchKey(key, "", task);
  const whole = chunked([bytes]);
  assertEquals(await readLaunchKey(whole.read), { key, kid: "", task });
  assertEquals(whole.reads(), 1);
  const pieces = chunked([...bytes].map((b) => new Uint8Array([b])));
  assertEquals(await readLaunchKey(pieces.read), { key, kid: "", task });
  assertEquals(await readLaunchKey(chunked([bytes.subarray(0, bytes.length - 1)]).read), null);
  const trailing = new Uint8Array([...bytes, 1]);
  await assertRejects(() => readLaunchKey(chunked([trailing]).read), TypeError, "malformed");
  const restore = setLimits({ message: 100 });
  try {
    assertThrows(() => encodeLaunchKey(key, "", task), RangeError, "exceeds the limit");
    await assertRejects(() => readLaunchKey(chunked([bytes]).read), TypeError, "malformed");
  } finally {
    restore();
  }
});

/** Feeds `chunks` to a scanner: what it forwards, and the report. */
async function scanAll(nonce: string, chunks: Uint8Array[]): Promise<[string, StartReport]> {
  const scanner = new StartScanner(nonce);
  const out: number[] = [];
  for (const c of chunks) out.push(...scanner.scan(c));
  out.push(...scanner.end());
  return [new TextDecoder().decode(new Uint8Array(out)), await scanner.report];
}

/** The bytes `write` puts on stderr, caught. */
function stderrOf(write: () => void): Uint8Array {
  const parts: Uint8Array[] = [];
  const original = Deno.stderr.writeSync;
  Deno.stderr.writeSync = (p: Uint8Array) => (parts.push(p.slice()), p.length);
  try {
    write();
  } finally {
    Deno.stderr.writeSync = original;
  }
  return new Uint8Array(parts.flatMap((p) => [...p]));
}

Deno.test("start report: taken out of the stream wherever the stream is cut, everything around it forwarded as it was", async () => {
  const nonce = newStartNonce();
  const enc = new TextEncoder();
  const before = enc.encode(
    `a \0 NUL, another child's \0#MP-${newStartNonce()}#S and ours cut: \0#MP-`,
  );
  const after = enc.encode("after\n");
  const report = stderrOf(() => reportStarted(nonce));
  const stream = new Uint8Array([...before, ...report, ...after]);
  const text = new TextDecoder().decode(new Uint8Array([...before, ...after]));
  for (let cut = 0; cut <= stream.length; cut++) {
    for (const cut2 of [cut, Math.min(stream.length, cut + 7)]) {
      const chunks = [stream.subarray(0, cut), stream.subarray(cut, cut2), stream.subarray(cut2)];
      assertEquals(
        await scanAll(nonce, chunks),
        [text, { started: true }],
        `cut at ${cut}, ${cut2}`,
      );
    }
  }
  // Byte by byte.
  assertEquals(await scanAll(nonce, [...stream].map((b) => new Uint8Array([b]))), [text, {
    started: true,
  }]);
});

Deno.test("start report: a failure body that is not error data is refused as malformed", async () => {
  const enc = new TextEncoder();
  for (
    const body of [
      new Uint8Array(),
      new Uint8Array([0x00, 0x01]),
      enc.encode('J{"name":'), // The JSON tag, then JSON cut short.
      await encode(null),
      await encode("TypeError: no such export"),
      await encode({ name: 1, message: "m" }),
      await encode({ name: "TypeError" }),
    ]
  ) {
    await assertRejects(() => failureData(body), ProcessError, "failure report was malformed");
  }
  const error = { name: "TypeError", message: "no such export" };
  assertEquals(await failureData(await encode(error)), error);
});

Deno.test("start report: a failure carries its encoded error; a stream that ends without a report, or with a malformed one, starts nothing", async () => {
  const nonce = newStartNonce();
  const enc = new TextEncoder();
  const error = {
    name: "TypeError",
    message: "no such export",
    stack: "TypeError: no such export",
  };
  const body = await encode(error);
  const failed = stderrOf(() => reportFailed(nonce, body));
  const stream = new Uint8Array([...enc.encode("x"), ...failed, ...enc.encode("y")]);
  for (let cut = 0; cut <= stream.length; cut++) {
    const [text, report] = await scanAll(nonce, [stream.subarray(0, cut), stream.subarray(cut)]);
    assertEquals(text, "xy");
    assertEquals(report, { started: false, failure: body });
  }
  const cutShort = new Uint8Array([...enc.encode("x"), ...failed.subarray(0, failed.length - 3)]);
  assertEquals(await scanAll(nonce, [cutShort]), [
    new TextDecoder().decode(cutShort),
    { started: false, malformed: false },
  ]);
  assertEquals(await scanAll(nonce, [enc.encode("only text")]), [
    "only text",
    { started: false, malformed: false },
  ]);
  const odd = enc.encode(`\0#MP-${nonce}#Z, then text`);
  assertEquals(await scanAll(nonce, [odd]), [", then text", { started: false, malformed: true }]);
});

testBoth(
  "a child's stderr reaches its parent's byte for byte, around its start report, both from its module and its target",
  async (method) => {
    const { code, stdout, stderr } = await denoRun([fixturePath("stderr_bytes_main.ts"), method]);
    assertEquals(code, 0, stderr);
    assertEquals(stdout.trim(), "exit 0");
    assertEquals(stderr, LOADING + RUNNING);
  },
);

/** Runs the cold entry itself with `ticket`, writing `stdin` to it: its exit code and stderr. */
async function runColdEntry(ticket: string, stdin: Uint8Array): Promise<[number, Uint8Array]> {
  const entry = new URL("../_internal/process/child.ts", import.meta.url).href;
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--no-config", "--no-prompt", "--allow-read", entry, ticket],
    stdin: "piped",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const w = child.stdin.getWriter();
  await w.write(stdin);
  const out = await child.output(); // Its stdin stays open: EOF would mean its parent is gone.
  await w.close().catch(() => {});
  return [out.code, out.stderr];
}

Deno.test("the cold entry refuses a task with handles, and a ticket that connects back, saying why (its parent starts those at child_linked.ts)", async () => {
  const spec: TaskSpec = {
    module: new URL("./fixtures/targets.ts", import.meta.url).href,
    exportName: "exitWith",
    fingerprint: fingerprint(exitWith),
    kind: "function",
    args: [0],
    fields: {},
    name: "refused",
    identity: [1],
    daemon: false,
    parent: { name: "MainProcess", pid: Deno.pid, ident: String(Deno.pid) },
    runtimeArgs: [],
    transport: "unix",
    handles: { args: [[0]] },
  };
  const nonce = newStartNonce();
  const key = crypto.getRandomValues(new Uint8Array(32));
  const launch = encodeLaunchKey(key, "", { nonce, payload: await encode(spec) });
  const [code, stderr] = await runColdEntry(
    JSON.stringify({ ppid: Deno.pid, stdin: true }),
    launch,
  );
  assertEquals(code, 1);
  const [, report] = await scanAll(nonce, [stderr]);
  assert(!report.started && report.failure, JSON.stringify(report));
  assertStringIncludes(
    new TextDecoder().decode(report.failure),
    "this child entry takes no handles",
  );
  // A ticket naming a hub to connect back to: refused before it reads anything.
  const [code2, stderr2] = await runColdEntry(
    JSON.stringify({ ppid: Deno.pid, address: "unix:/nowhere", ticket: "t" }),
    new Uint8Array(0),
  );
  assertEquals(code2, 2);
  assertStringIncludes(new TextDecoder().decode(stderr2), "take their task on stdin");
});
