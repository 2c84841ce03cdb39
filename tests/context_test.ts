import { assertEquals, assertMatch, assertRejects, assertThrows } from "@std/assert";
import {
  cpuCount,
  getContext,
  getRuntimeArgs,
  getStartMethod,
  Manager,
  Pool,
  Process,
  ProcessError,
  setRuntimeArgs,
  setStartMethod,
  SharedArray,
} from "../mod.ts";
import { noop, writeStartMethod } from "./fixtures/targets.ts";
import { ident } from "./fixtures/pool_targets.ts";
import { START_METHODS, TARGETS as module, tempDir } from "./_helpers.ts";

for (const method of START_METHODS) {
  Deno.test(`getContext("${method}").Process starts ${method} children [${method}]`, async () => {
    const ctx = getContext(method);
    assertEquals(ctx.startMethod, method);
    assertEquals(ctx.getStartMethod(), method);
    await using p = new ctx.Process({ target: noop, module });
    assertMatch(p.name, /^Process-\d+$/);
    await p.start();
    await p.join();
    assertEquals(p.exitCode, 0);
    assertEquals(p.ident!.includes("/"), method === "worker");
  });

  Deno.test(`setStartMethod sets the default, and children inherit it [${method}]`, async () => {
    await using dir = await tempDir();
    setStartMethod(method);
    try {
      assertEquals(getStartMethod(), method);
      assertThrows(() => setStartMethod(method), Error, "it is already");
      await using p = new Process({
        target: writeStartMethod,
        args: [`${dir.path}/m`],
        module,
      });
      await p.start();
      await p.join();
      assertEquals(p.exitCode, 0);
      assertEquals(p.ident!.includes("/"), method === "worker");
      assertEquals(await Deno.readTextFile(`${dir.path}/m`), method);
    } finally {
      setStartMethod(undefined, { force: true });
    }
  });
}

for (const method of START_METHODS) {
  Deno.test(`getContext("${method}") offers Python's context, Pool bound to the method [${method}]`, async () => {
    const ctx = getContext(method);
    const poolModule = new URL("./fixtures/pool_targets.ts", import.meta.url).href;
    await using pool = new ctx.Pool({ processes: 1, module: poolModule });
    assertEquals((await pool.apply(ident)).includes("/"), method === "worker");
    await using pool2 = new ctx.Pool(1); // the number form too
    assertEquals(pool2 instanceof Pool, true);
    for (
      const name of ["Queue", "JoinableQueue", "SimpleQueue", "Lock", "RLock", "Event"] as const
    ) {
      assertEquals(typeof ctx[name], "function", name);
    }
    assertEquals(ctx.Array, SharedArray);
    assertEquals(ctx.Manager, Manager);
    const [a, b] = ctx.Pipe();
    await a.send(1);
    assertEquals(await b.recv(), 1);
    a.close();
    b.close();
    assertEquals(ctx.cpuCount(), cpuCount());
  });
}

Deno.test("context functions validate their arguments", () => {
  assertThrows(
    () => getContext("fork" as never),
    RangeError,
    `received 'fork'`,
  );
  assertThrows(
    () => setStartMethod("spawn" as never, { force: true }),
    RangeError,
  );
  assertThrows(() => setRuntimeArgs("--x" as never), TypeError);
  const before = getRuntimeArgs();
  setRuntimeArgs([...before, "--cached-only"]);
  assertEquals(getRuntimeArgs(), [...before, "--cached-only"]);
  setRuntimeArgs(before);
});

Deno.test("worker permissions without --unstable-worker-options fail start() with the flag named", async () => {
  const p = new Process({
    target: noop,
    module,
    startMethod: "worker",
    permissions: "none",
  });
  await assertRejects(
    () => p.start(),
    ProcessError,
    "--unstable-worker-options",
  );
});
