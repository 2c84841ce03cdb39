// Issue #13, findings 2 and 6: a child with narrowed permissions stays in
// its sandbox. Each attack runs as a whole program
// (tests/fixtures/attack_sandbox.ts) and must do no harm.
import { assertEquals, assertStringIncludes } from "@std/assert";
import { denoRun, fixturePath, tempDir, testBoth } from "./_helpers.ts";

const EXPECTED: Record<string, string[]> = {
  pool: ["pool: ok", "parent alive"],
  crash: ["pool: ok", "parent alive"],
  report: ["manager: 0", "pool: ok", "parent alive"],
  delete: ["manager: 0", "victim: intact", "pool: ok", "parent alive"],
};

const WHAT: Record<string, string> = {
  pool: "cannot make a pool worker import its module through the task pipe",
  crash: "cannot crash its parent with a malformed pool message",
  report: "cannot forge a manager's report, nor make its parent run a fake manager's code",
  delete: "cannot steal a manager's report to make its parent remove a file",
};

for (const mode of Object.keys(EXPECTED)) {
  testBoth(`Security: a sandboxed child ${WHAT[mode]}`, async (method) => {
    await using dir = await tempDir();
    const out = await denoRun(
      [fixturePath("attack_sandbox.ts"), method, mode, dir.path],
      { flags: ["-A", "--unstable-worker-options"] },
    );
    assertEquals(out.code, 0, out.stderr);
    assertEquals(out.stdout.trim().split("\n"), EXPECTED[mode], out.stderr);
    // It reached its parent's socket, with its own key, and was refused.
    assertStringIncludes(out.stderr, "this sandboxed process was not given it");
    assertEquals([...Deno.readDirSync(dir.path)].map((e) => e.name), []);
  });
}

testBoth(
  "Security: a sandboxed child uses what it was given (a queue, a lock, a pipe end, a manager's dict), in the roles it was given, and its bytes for a pipe it was not given are refused before any reaches a waiting buffer; a sandboxed pool's task uses the queue it brought; a sandboxed start that fails reports why",
  async (method) => {
    const out = await denoRun(
      [fixturePath("sandbox_use_main.ts"), method],
      { flags: ["-A", "--unstable-worker-options"] },
    );
    assertEquals(out.code, 0, out.stderr);
    assertEquals(out.stdout.trim().split("\n"), [
      "queue: put",
      "lock: held",
      "pipe as the other end: this sandboxed process was not given it",
      "bytes to a pipe not given: refused",
      "that pipe still works: 5, 1",
      "pipe: sent",
      "dict: set",
      "exit: 0",
      "pool: put",
      "failed: true",
    ]);
  },
);
