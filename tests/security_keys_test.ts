// Issue #13, findings 3, 7 and 9: keys never travel in data, weak or odd
// keys are refused or carried whole, a Listener on a path is its owner's.
// Whole programs: tests/fixtures/attack_*.ts.
import { assertEquals, assertRejects, assertThrows } from "@std/assert";
import { denoRun, fixturePath, testBoth } from "./_helpers.ts";
import { BaseManager, Client, Listener, Manager, Pool, Process } from "../mod.ts";
import { fillDict } from "./fixtures/manager_targets.ts";
import { fromHex, toHex } from "../_internal/base/hex.ts";

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

Deno.test("Security: a key under 16 bytes is refused (one observed handshake would give it away)", async () => {
  const out = await denoRun([fixturePath("attack_weak_key.ts")]);
  assertEquals(
    out.stdout.trim(),
    "refused: RangeError: Cannot listen: 'authkey' must be at least 16 bytes, received 1",
    out.stderr,
  );
  for (const authkey of ["", "k", new Uint8Array(15)]) {
    assertThrows(() => new Listener({ authkey }), RangeError, "at least 16 bytes");
    assertThrows(() => new BaseManager({ authkey }), RangeError, "at least 16 bytes");
    await assertRejects(() => Client({ port: 1 }, { authkey }), RangeError, "at least 16 bytes");
  }
});

for (const length of [20, 40, 64]) {
  Deno.test(`Security: a key of ${length} bytes reaches children whole (it travels length-prefixed)`, async () => {
    const out = await denoRun([fixturePath("attack_odd_key.ts"), String(length)]);
    assertEquals(out.stdout.trim(), "child started, exit 0", out.stderr);
  });
}

Deno.test("Security: a Listener on a path is its owner's only, leaves nothing behind, and accept() gives only good connections", async () => {
  const out = await denoRun([fixturePath("attack_listener.ts")]);
  assertEquals(out.stdout.trim().split("\n"), [
    "mode for group and others: 0",
    "accept() after 100 failed handshakes: a connection",
    "listen again on the path: ok",
  ], out.stderr);
});

Deno.test("keys: hex reads back what it wrote, and refuses anything else", () => {
  const bytes = Uint8Array.from({ length: 256 }, (_, i) => i);
  assertEquals(toHex(bytes).slice(0, 8), "00010203");
  assertEquals(fromHex(toHex(bytes)), bytes);
  assertEquals(fromHex(""), new Uint8Array(0));
  // The neighbours of each digit range, upper case, odd lengths, non-strings.
  for (const bad of ["0/", "0:", "`0", "g0", "0G", "AB", "abc", " 00", "0x00", 12, null]) {
    assertEquals(fromHex(bad), undefined, String(bad));
  }
});
