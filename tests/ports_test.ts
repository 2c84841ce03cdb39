// A worker-only program needs only read access to its modules: its worker
// children reach its queues, locks, pipes and shared values over message
// ports (hub/ports.ts), so it opens no socket and makes no temp dir; a
// worker of a worker reaches its grandparent's objects the same way. What
// needs a socket (a subprocess child, a sandboxed worker given handles)
// still says, at once, which flags it lacks.
import { assert, assertEquals, assertStringIncludes } from "@std/assert";
import { denoRun, fixturePath } from "./_helpers.ts";

function socketDirsOf(pid: number): string[] {
  return [...Deno.readDirSync("/tmp")].map((e) => e.name).filter((n) =>
    n.startsWith(`denomp-${pid}-`)
  );
}

Deno.test("a worker-only program (Pool, Queue, Lock, Value, Event, Pipe, a grandchild, a worker dying in a task) runs with --allow-read alone and leaves no temp dir", async () => {
  const out = await denoRun([fixturePath("ports_main.ts")], { flags: ["--allow-read"] });
  assertEquals(out.code, 0, out.stderr);
  const lines = out.stdout.trim().split("\n");
  const got = JSON.parse(lines.at(-1)!);
  assertEquals(got.results, [1, 4, 9, 16]);
  assertEquals(got.queued, [1, 4, 9, 16]);
  assertEquals(got.count, 4);
  // Each task gave its value or failed with its worker; x = 2's worker died.
  const died = got.died as unknown[];
  died.forEach((v, i) => assert(v === 2 * (i + 1) || v === "WorkerDiedError", `${died}`));
  assertEquals(died[1], "WorkerDiedError");
  assertEquals(got.after, [8, 10]);
  assertEquals(got.answer, "event seen");
  assertEquals(got.exitCode, 0);
  assertEquals(got.relayed, "hello from a grandchild");
  assertEquals(socketDirsOf(got.pid), []);
});

Deno.test("with --allow-read alone, what needs a socket names its flags at once: a subprocess child, a sandboxed worker given a queue", async () => {
  for (const mode of ["subprocess", "sandboxed"]) {
    const out = await denoRun([fixturePath("ports_main.ts"), mode], {
      flags: ["--allow-read", "--unstable-worker-options"],
    });
    assertEquals(out.code, 0, out.stderr);
    const line = out.stdout.trim();
    assert(line.startsWith("NotCapable:"), `${mode}: ${line}`);
    for (const flag of ["--allow-write", "--allow-net"]) assertStringIncludes(line, flag);
  }
});

Deno.test("with every permission, worker children dial the hub's socket as before (no port route)", async () => {
  const out = await denoRun([fixturePath("ports_main.ts"), "routes"]);
  assertEquals(out.code, 0, out.stderr);
  assertEquals(out.stdout.trim(), "routes: none");
});
