// Issue #13, finding 8: key holders do not disturb each other. Whole
// program: tests/fixtures/attack_disturb.ts.
import { assertEquals } from "@std/assert";
import { denoRun, fixturePath } from "./_helpers.ts";

const IMPORT_MAP = new URL("../.ci/std/import_map.json", import.meta.url).pathname;

Deno.test("Security: another key holder can neither free a client's object, take its lock, nor shut its manager down", async () => {
  const out = await denoRun([fixturePath("attack_disturb.ts"), `--import-map=${IMPORT_MAP}`]);
  assertEquals(out.code, 0, out.stderr);
  assertEquals(out.stdout.trim().split("\n"), [
    "dict: alive",
    "lock: still held",
    "manager: alive",
  ]);
});
