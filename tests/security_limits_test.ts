// Issue #13, finding 5: one key holder cannot exhaust a host. Whole
// programs: tests/fixtures/attack_exhaust.ts (a manager process and a
// client holding its key).
import { assertEquals, assertStringIncludes } from "@std/assert";
import { denoRun, fixturePath } from "./_helpers.ts";
import { rawClient } from "./_raw.ts";
import { Queue } from "../mod.ts";
import { TO_DESCRIPTOR } from "../_internal/base/symbols.ts";
import { state } from "../_internal/base/state.ts";
import { setLimits } from "../_internal/wire/limits.ts";
import { LocalRef } from "../_internal/hub/refs.ts";
import { connectAuthed } from "../_internal/transport/sockets.ts";
import { frameOf } from "../_internal/wire/framing.ts";
import { encodeSync } from "../_internal/wire/codec.ts";

const IMPORT_MAP = `--import-map=${
  new URL("../.ci/std/import_map.json", import.meta.url).pathname
}`;

const CASES: [string, string, string[]][] = [
  ["backlog", "asks for a 4 MiB list 150 times and never reads a reply", ["open"]],
  ["inflight", "makes 200,000 calls that wait for ever", ["open"]],
  ["objects", "creates 200,000 dicts it never takes", ["open"]],
  ["deep", "puts an item nested 100,000 deep on a queue", ["cut"]],
];

for (const [mode, what, [conn]] of CASES) {
  Deno.test(`Security: a client that ${what} does not exhaust its manager`, async () => {
    const out = await denoRun([fixturePath("attack_exhaust.ts"), mode, IMPORT_MAP]);
    assertEquals(out.code, 0, out.stderr);
    assertEquals(out.stdout.trim().split("\n"), [
      "growth within 256 MiB",
      ...(mode === "deep" ? ["get: plain"] : []),
      "manager: answers",
      `attacker's connection: ${conn}`,
    ]);
  });
}

Deno.test("Security: a host answers a call past the bound of calls in flight with an error, and serves on", async () => {
  const restore = setLimits({ callsInFlight: 8 });
  try {
    await using q = new Queue<string>();
    const d = await q[TO_DESCRIPTOR]();
    await using raw = await rawClient(d.address, state().authkey);
    await raw.send({ op: "attach", ident: "many" });
    // Eight gets wait; the ninth is refused.
    for (let r = 1; r <= 9; r++) await raw.send({ r, o: d.id, m: "get", a: [null, 1] });
    await raw.until((v) => (v as { r?: number }).r === 9);
    const ninth = raw.received.find((v) => (v as { r?: number }).r === 9) as { e: Error };
    assertStringIncludes(ninth.e.message, "8 calls in flight");
    await q.put("one");
    await raw.until((v) => (v as { r?: number }).r === 1);
  } finally {
    restore();
  }
});

Deno.test("Security: replies piling up past the hard cap for a client that never reads close its connection", async () => {
  const restore = setLimits({ backlog: 1 << 20, backlogHard: 4 << 20 });
  try {
    // A host object whose answers come later, each 512 KiB; it hears when
    // the connection is gone.
    const big = "x".repeat(512 << 10);
    const gone = Promise.withResolvers<void>();
    const ref = new LocalRef({
      call: () => new Promise((r) => setTimeout(() => r(big), 1)),
      detach: () => gone.resolve(),
    });
    const authed = await connectAuthed(await ref.address(), state().authkey);
    const send = (v: unknown) => authed.writer.write(frameOf(encodeSync(v)!));
    // Sends, and never reads.
    await send({ op: "attach", ident: "reads nothing" });
    for (let r = 1; r <= 64; r++) await send({ r, o: ref.id, m: "big", a: [] });
    await gone.promise;
    authed.conn.close();
    ref.release();
  } finally {
    restore();
  }
});
