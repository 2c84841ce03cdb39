// Issue #13, findings 3 and 7: keys never travel in data, and weak or odd
// keys are refused. Whole programs: tests/fixtures/attack_key_*.ts.
import { assertEquals } from "@std/assert";
import { denoRun, fixturePath, testBoth } from "./_helpers.ts";
import { Manager, Pool, Process } from "../mod.ts";
import { fillDict } from "./fixtures/manager_targets.ts";

const MANAGER_TARGETS = new URL("./fixtures/manager_targets.ts", import.meta.url).href;

Deno.test("Security: a proxy stored in another manager carries no key of its own manager", async () => {
  const owner = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      `--import-map=${new URL("../.ci/std/import_map.json", import.meta.url).pathname}`,
      fixturePath("attack_key_owner.ts"),
    ],
    stdin: "piped",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const lines = owner.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let first = "";
  while (!first.includes("\n")) first += (await lines.read()).value ?? "";
  const info = JSON.parse(first);
  const out = await denoRun([
    fixturePath("attack_key_reader.ts"),
    String(info.portB),
    info.keyB,
    info.dictB,
    info.keyA,
  ]);
  await owner.stdin.close();
  await lines.cancel();
  await owner.status;
  assertEquals(out.stdout.trim(), "key of A: not learned", out.stderr);
});

testBoth(
  "Security: a child and a pool task given a proxy of a manager with its own key reach it: the key comes with their launch",
  async (method) => {
    await using m = await Manager.start({ authkey: crypto.getRandomValues(new Uint8Array(32)) });
    const d = await m.dict<string, number>();
    await using p = new Process({
      target: fillDict,
      args: [d, 2],
      module: MANAGER_TARGETS,
      startMethod: method,
    });
    await p.start();
    await p.join();
    assertEquals(p.exitCode, 0);
    await using pool = new Pool({ processes: 1, startMethod: method, module: MANAGER_TARGETS });
    await pool.apply(fillDict, [d, 3]);
    assertEquals(await d.items(), [["k0", 0], ["k1", 1], ["k2", 2]]);
  },
);
