// Progress: map, starmap, imap and imapUnordered call onProgress(done,
// total) once per settled chunk (done counts items; total is undefined for
// an input of unknown length), the last call with done === total; with
// `progress: true` a bar is drawn on stderr when it is a terminal.
import { assert, assertEquals, assertMatch } from "@std/assert";
import { Pool } from "../mod.ts";
import { add, square, squareUnless3 } from "./fixtures/pool_targets.ts";
import { denoRun, fixturePath, testBoth } from "./_helpers.ts";
import { renderBar } from "../_internal/pool/progress.ts";

const module = new URL("./fixtures/pool_targets.ts", import.meta.url).href;
type Call = [number, number | undefined];

function increasing(calls: Call[]): void {
  for (let i = 1; i < calls.length; i++) {
    assert(calls[i][0] > calls[i - 1][0], JSON.stringify(calls));
  }
}

testBoth(
  "Pool.map() and starmap() call onProgress once per chunk, the last with done === total",
  async (startMethod) => {
    await using pool = new Pool({ processes: 2, module, startMethod });
    const calls: Call[] = [];
    const onProgress = (done: number, total: number | undefined) => void calls.push([done, total]);
    const xs = Array.from({ length: 10 }, (_, i) => i);
    assertEquals(await pool.map(square, xs, { chunksize: 3, onProgress }), xs.map((x) => x * x));
    assertEquals(calls.length, 4);
    increasing(calls);
    assertEquals(calls.at(-1), [10, 10]);
    assert(calls.every(([, total]) => total === 10));
    calls.length = 0;
    await pool.starmap(add, [[1, 2], [3, 4]], { chunksize: 1, onProgress });
    assertEquals(calls.at(-1), [2, 2]);
  },
);

testBoth(
  "Pool.imap(): onProgress with the total when the input has a length, undefined when not",
  async (startMethod) => {
    await using pool = new Pool({ processes: 2, module, startMethod });
    const calls: Call[] = [];
    const onProgress = (done: number, total: number | undefined) => void calls.push([done, total]);
    for await (
      const _ of pool.imap(square, [1, 2, 3, 4, 5], { chunksize: 2, onProgress })
    ) { /* drain */ }
    assertEquals(calls.length, 3);
    assertEquals(calls.at(-1), [5, 5]);
    calls.length = 0;
    function* gen() {
      yield* [1, 2, 3];
    }
    for await (const _ of pool.imapUnordered(square, gen(), { onProgress })) { /* drain */ }
    assertEquals(calls.map(([done]) => done).sort(), [1, 2, 3]);
    assert(calls.every(([, total]) => total === undefined));
    // A failed item is settled too: it counts.
    calls.length = 0;
    const it = pool.imap(squareUnless3, new Set([1, 2, 3, 4]), { onProgress });
    for (let i = 0; i < 5; i++) await it.next().catch(() => {});
    assertEquals(calls.at(-1), [4, 4]);
  },
);

Deno.test("progress: true draws nothing when stderr is not a terminal", async () => {
  const { code, stdout, stderr } = await denoRun([fixturePath("progress_main.ts")]);
  assertEquals(code, 0, stderr);
  assertEquals(stdout.trim(), "[1,4,9]");
  assertEquals(stderr, "");
});

Deno.test("renderBar(): count, rate and ETA; count and rate alone for an unknown total", () => {
  const line = renderBar(25, 100, 5000, 80);
  assertMatch(line, /25\/100/);
  assertMatch(line, /25%/);
  assertMatch(line, /5(\.0)?\/s/);
  assertMatch(line, /ETA 15s/);
  assert(line.length <= 80, line);
  const open = renderBar(7, undefined, 2000, 80);
  assertMatch(open, /^7 items/);
  assertMatch(open, /3\.5\/s/);
});
