// The ready-made targets (targets.ts) run in a child and in a pool worker
// of both start methods, found by the package's module as a user passes it.
import { assertEquals, assertRejects } from "@std/assert";
import {
  BaseManager,
  Manager,
  Pipe,
  Pool,
  Process,
  Queue,
  type StartMethod,
  Value,
} from "../mod.ts";
import {
  add,
  echo,
  exitWith,
  fail,
  increment,
  makeTally,
  noop,
  produce,
  record,
  sleep,
  square,
} from "../targets.ts";
import { testBoth } from "./_helpers.ts";

const module = new URL("../targets.ts", import.meta.url).href;

/** Starts `target(...args)` in a child and resolves its exit code. */
async function run(
  startMethod: StartMethod,
  // deno-lint-ignore no-explicit-any
  target: (...args: any[]) => unknown,
  args: unknown[],
): Promise<number | null> {
  await using p = new Process({ target, args, module, startMethod });
  await p.start();
  await p.join();
  return p.exitCode;
}

testBoth(
  "targets: square, add, sleep and noop on a pool; fail's error comes back",
  async (startMethod) => {
    await using pool = new Pool({ processes: 2, module, startMethod });
    assertEquals(await pool.map(square, [1, 2, 3]), [1, 4, 9]);
    assertEquals(await pool.starmap(add, [[1, 2], [3, 4]]), [3, 7]);
    assertEquals(await pool.apply(sleep, [1]), 1);
    assertEquals(await pool.apply(noop), undefined);
    // The task's own error class, as Python re-raises it.
    await assertRejects(() => pool.apply(fail, ["boom"]), RangeError, "boom");
  },
);

testBoth("targets: exitWith ends a child with its code", async (startMethod) => {
  assertEquals(await run(startMethod, exitWith, [3]), 3);
});

testBoth(
  "targets: produce fills a queue, increment a shared value, in a child",
  async (startMethod) => {
    await using q = new Queue<number>();
    await using total = new Value("i", 0);
    assertEquals(await run(startMethod, produce, [q, 3]), 0);
    assertEquals([await q.get(), await q.get(), await q.get()], [0, 1, 2]);
    assertEquals(await run(startMethod, increment, [total, 50]), 0);
    assertEquals(await total.get(), 50);
  },
);

testBoth("targets: echo answers over a pipe until its parent's end closes", async (startMethod) => {
  const [here, there] = Pipe();
  await using p = new Process({ target: echo, args: [there], module, startMethod });
  await p.start();
  for (const v of [1, "two", { three: [3] }]) {
    await here.send(v);
    assertEquals(await here.recv(), v);
  }
  here.close();
  await p.join();
  assertEquals(p.exitCode, 0);
});

testBoth("targets: record writes into a manager's dict from a child", async (startMethod) => {
  await using manager = await Manager.start();
  const d = await manager.dict<string, number>();
  assertEquals(await run(startMethod, record, [d, "answer", 42]), 0);
  assertEquals(await d.items(), [["answer", 42]]);
});

Deno.test("targets: makeTally is served by a manager, its proxy calls its methods", async () => {
  await using m = new BaseManager().register("Tally", makeTally, { module });
  await m.start();
  const tally = await m.create("Tally", 40);
  assertEquals(await tally.add(2), 42);
});
