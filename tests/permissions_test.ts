// Permissions in one go: a program that lacks what it needs for what it is
// about to do gets one error listing every missing flag, not one run per
// flag with a stack from inside the library.
import { assert, assertStringIncludes } from "@std/assert";
import { denoRun, fixturePath } from "./_helpers.ts";

async function run(flags: string[], method: string): Promise<string> {
  const { stdout, stderr } = await denoRun([fixturePath("perm_main.ts"), method], { flags });
  const line = stdout.trim();
  assert(line.length > 0, stderr);
  return line;
}

Deno.test("a subprocess child without flags: one NotCapable error naming every missing flag", async () => {
  const line = await run([], "subprocess");
  assert(line.startsWith("NotCapable: Cannot start process 'Process-1'"), line);
  for (const flag of ["--allow-read", "--allow-write", "--allow-net", "--allow-run"]) {
    assertStringIncludes(line, flag);
  }
  assertStringIncludes(line, "deno run --allow-read --allow-write --allow-net --allow-run");
});

Deno.test("a subprocess child with --allow-read only: the others, all named at once", async () => {
  const line = await run(["--allow-read"], "subprocess");
  assert(line.startsWith("NotCapable:"), line);
  for (const flag of ["--allow-write", "--allow-net", "--allow-run"]) {
    assertStringIncludes(line, flag);
  }
  assert(!/--allow-read +to/.test(line), `read is granted: ${line}`);
});

Deno.test("a worker child given a queue without flags: --allow-read alone named, to load its modules", async () => {
  const line = await run([], "worker");
  assert(line.startsWith("NotCapable:"), line);
  assertStringIncludes(line, "--allow-read");
  // The queue is reached over a message port: no socket, so no other flag.
  for (const flag of ["--allow-write", "--allow-net", "--allow-run"]) {
    assert(!line.includes(flag), line);
  }
});

Deno.test("a worker child given a queue with --allow-read alone starts", async () => {
  assertStringIncludes(await run(["--allow-read"], "worker"), "started");
});

Deno.test("with every flag the child starts", async () => {
  const flags = ["--allow-read", "--allow-write", "--allow-net", "--allow-run"];
  assertStringIncludes(await run(flags, "subprocess"), "started");
});
