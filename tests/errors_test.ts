// Errors that point at the user's code: the parent's call site after the
// remote stack ("Submitted at:"), a thrown non-Error kept as `value`, and
// hints that name the fix (a target imported from another module, a child
// that lacks the parent's --import-map).
import {
  assert,
  assertEquals,
  assertInstanceOf,
  assertRejects,
  assertStringIncludes,
} from "@std/assert";
import { Pool, Process, RemoteError } from "../mod.ts";
import { fails, throwObject, throwString } from "./fixtures/pool_targets.ts";
import { denoRun, fixturePath, START_METHODS, testBoth } from "./_helpers.ts";

const module = new URL("./fixtures/pool_targets.ts", import.meta.url).href;
const HERE = "errors_test.ts";

/** The part of a stack after its "Submitted at:" line, or undefined. */
function submittedAt(err: Error): string | undefined {
  const at = err.stack?.indexOf("\nSubmitted at:\n") ?? -1;
  return at < 0 ? undefined : err.stack!.slice(at);
}

testBoth(
  "Pool: a task's error carries the remote stack, then the call site",
  async (startMethod) => {
    await using pool = new Pool({ processes: 1, module, startMethod });
    const err = await assertRejects(() => pool.apply(fails, ["boom"]), RangeError, "boom");
    const site = submittedAt(err);
    assert(site, `no "Submitted at:" in ${err.stack}`);
    assertStringIncludes(err.stack!.slice(0, err.stack!.indexOf("Submitted at:")), "fails");
    assertStringIncludes(site, HERE);
    assertEquals(err.cause, undefined, "the cause stays the remote error's own");
    const mapped = await assertRejects(() => pool.map(fails, ["a", "b"]), RangeError);
    assertStringIncludes(submittedAt(mapped) ?? "", HERE);
    const it = pool.imap(fails, ["x"]);
    const iterated = await assertRejects(() => it.next(), RangeError);
    assertStringIncludes(submittedAt(iterated) ?? "", HERE);
  },
);

testBoth(
  "Pool: a thrown non-Error keeps its value; the message names the worker and module#export",
  async (startMethod) => {
    await using pool = new Pool({ processes: 1, module, startMethod });
    const err = await assertRejects(() => pool.apply(throwString), RemoteError);
    assertEquals(err.value, "oops");
    assertStringIncludes(err.message, `${module}#throwString`);
    assertStringIncludes(err.message, "pool worker 'Process-");
    assertStringIncludes(err.message, `"oops"`);
    const obj = await assertRejects(() => pool.apply(throwObject), RemoteError);
    assertEquals(obj.value, { code: 7, why: "not an Error" });
  },
);

testBoth(
  "Process.start(): a failure in the child carries the call site of start()",
  async (startMethod) => {
    const p = new Process({
      target: fails,
      module: new URL("./fixtures/targets.ts", import.meta.url),
      startMethod,
    });
    const err = await assertRejects(() => p.start(), TypeError, "not exported");
    assertStringIncludes(submittedAt(err) ?? "", HERE);
  },
);

for (const how of [...START_METHODS, "pool"]) {
  Deno.test(`a target imported from another module: the hint names the fixes and that module [${how}]`, async () => {
    const { stdout, stderr } = await denoRun([fixturePath("imported_target_main.ts"), how]);
    const line = stdout.trim();
    assert(line.startsWith("failed: "), stdout + stderr);
    assertStringIncludes(line, "'noop' is not exported from");
    assertStringIncludes(line, "imported_target_main.ts");
    assertStringIncludes(line, "export { noop }");
    assertStringIncludes(line, `module: new URL("./targets.ts", import.meta.url)`);
  });
}

Deno.test("a child that lacks the parent's --import-map: the error says so and names runtimeArgs", async () => {
  const map = `--import-map=${fixturePath("import_map.json")}`;
  const { stdout } = await denoRun([map, fixturePath("mapped_main.ts")]);
  assertStringIncludes(stdout, `start failed: Import "mp-mapped-fixture" not a dependency`);
  assertStringIncludes(stdout, "--import-map");
  assertStringIncludes(stdout, "runtimeArgs");
  assertStringIncludes(stdout, "setRuntimeArgs");
});

Deno.test("RemoteError.value is absent for an Error", () => {
  const err = new RemoteError("ValueError", "bad");
  assertInstanceOf(err, Error);
  assertEquals("value" in err, false);
});
