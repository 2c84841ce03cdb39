import { assertEquals, assertRejects, assertThrows } from "@std/assert";
import { Lock, Pool, Process, SharedArray, Value } from "../mod.ts";
import {
  addMany,
  addOne,
  addUnder,
  prefixSums,
  takeAndRelease,
  writeKinds,
} from "./fixtures/sync_targets.ts";
import { startChildren, testBoth } from "./_helpers.ts";

const module = new URL("./fixtures/sync_targets.ts", import.meta.url).href;

Deno.test("Value: typecodes, initial values, wrapping adds, type errors", async () => {
  await using i = new Value("i", 5);
  assertEquals(await i.get(), 5);
  assertEquals(await i.add(3), 8);
  await using b = new Value("b", 127, { lock: false });
  assertEquals(await b.add(1), -128);
  // No lock to update under: a rejection, as from every other method, not a throw.
  await assertRejects(() => b.update((x) => x), TypeError, "created without one");
  await using q = new Value("q", 2n ** 40n);
  assertEquals(await q.add(1n), 2n ** 40n + 1n);
  await using c = new Value("c");
  assertEquals(await c.get(), "\0");
  await c.set("x");
  assertEquals(await c.get(), "x");
  await using d = new Value("d", 0.5);
  assertEquals(await d.add(0.25), 0.75);
  await assertRejects(() => i.set("x" as unknown as number), TypeError, "expected a number");
  await assertRejects(() => c.set("xy"), TypeError, "expected one character");
  assertThrows(() => new Value("z", 1), TypeError, "unknown typecode 'z'");
  assertThrows(() => b.getLock(), TypeError, "created without one");
});

testBoth(
  "Value and SharedArray: adding to characters fails with an error that says so, here and in a child",
  async (startMethod) => {
    // It read, added and wrote under the lock as for a float: "a" + 1 is
    // "a1", refused as "expected one character, received a1".
    await using c = new Value("c", "a");
    await using u = new SharedArray("u", ["x", "y"]);
    await assertRejects(() => c.add(1), TypeError, "Cannot add to 'c' memory: it holds characters");
    await assertRejects(
      () => u.add(1, 1),
      TypeError,
      "Cannot add to 'u' memory: it holds characters",
    );
    assertEquals([await c.get(), await u.slice()], ["a", ["x", "y"]]);
    // A subprocess child reaches the memory through its host; a worker shares it.
    await using pool = new Pool({ processes: 1, startMethod, module });
    assertEquals(
      await pool.apply(addOne, [c]),
      "TypeError: Cannot add to 'c' memory: it holds characters, not numbers",
    );
    assertEquals(await c.get(), "a");
  },
);

Deno.test("Value: the lock option takes a lock to share, which outlives the value", async () => {
  await using lock = new Lock();
  {
    await using v = new Value("i", 0, { lock });
    assertEquals(v.getLock(), lock);
    assertEquals(await v.update((x) => (x as number) + 10), 10);
    // The value travels, and its lock with it.
    await using first = new Process({ target: addMany, args: [v, 1], module });
    await first.start();
    await first.join();
    assertEquals(await v.get(), 11);
  }
  // Still served: it can be described for another process.
  await using p = new Process({ target: takeAndRelease, args: [lock], module });
  await p.start();
  await p.join();
  assertEquals(p.exitCode, 0);
});

Deno.test("SharedArray: size or items, slices, bounds", async () => {
  await using zeros = new SharedArray("H", 3);
  assertEquals(await zeros.slice(), [0, 0, 0]);
  await using arr = new SharedArray("i", [1, 2, 3, 4]);
  assertEquals(arr.length, 4);
  await arr.setSlice(1, [20, 30]);
  assertEquals(await arr.slice(1, 3), [20, 30]);
  assertEquals(await arr.add(3, 6), 10);
  await assertRejects(() => arr.get(4), RangeError, "index 4 is out of range for length 4");
  await assertRejects(() => arr.setSlice(3, [1, 2]), RangeError, "do not fit");
  assertThrows(() => new SharedArray("i", -1), RangeError, "received -1");
});

testBoth("a child computes prefix sums in place in a SharedArray", async (startMethod) => {
  await using arr = new SharedArray("i", Array.from({ length: 10 }, (_, i) => i + 1));
  await using p = new Process({ target: prefixSums, args: [arr], module, startMethod });
  await p.start();
  await p.join();
  assertEquals(p.exitCode, 0);
  assertEquals(await arr.slice(), [1, 3, 6, 10, 15, 21, 28, 36, 45, 55]);
});

testBoth(
  "a child writes characters, floats and 64-bit integers the parent reads",
  async (startMethod) => {
    await using c = new Value("c", "a");
    await using d = new Value("d", 0);
    await using q = new Value("q", 1n);
    await using arr = new SharedArray("u", 2);
    await using p = new Process({ target: writeKinds, args: [c, d, q, arr], module, startMethod });
    await p.start();
    await p.join();
    assertEquals(p.exitCode, 0);
    assertEquals([await c.get(), await d.get(), await q.get()], ["z", 2.25, 11n]);
    assertEquals(await arr.slice(), ["h", "i"]);
  },
);

testBoth("Value.add() from 4 children and the parent loses no update", async (startMethod) => {
  await using counter = new Value("i", 0);
  await using children = await startChildren(4, addMany, [counter, 500], { module, startMethod });
  for (let i = 0; i < 500; i++) await counter.add(1);
  await children.join();
  assertEquals(await counter.get(), 2500);
});

testBoth("a lock and a value passed to pool tasks: no update lost", async (startMethod) => {
  await using lock = new Lock();
  await using counter = new Value("i", 0, { lock: false });
  await using pool = new Pool({ processes: 2, module, startMethod });
  const calls = Array.from({ length: 40 }, (_, i) => [lock, counter, i + 1] as const);
  await pool.starmap(addUnder, calls, { chunksize: 4 });
  assertEquals(await counter.get(), 820);
});
