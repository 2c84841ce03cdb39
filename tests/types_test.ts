// Types that catch mistakes: a target's arguments are typed from its
// parameters and its results from its return type. Each `@ts-expect-error`
// below is a mistake the type checker must refuse: were it accepted, the
// directive would be unused and this file would fail to type-check. The
// runtime half: unknown option names are refused with the closest valid one.
import { assertEquals, assertThrows } from "@std/assert";
import { getContext, Pool, type PoolLike, Process, Queue } from "../mod.ts";
import type { ClusterPool } from "../cluster.ts";
import { add, square } from "./fixtures/pool_targets.ts";
import { exitWith } from "./fixtures/targets.ts";

type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends (<T>() => T extends B ? 1 : 2) ? true
  : false;
function expectType<T>(_value: T): void {}
const yes = <T extends true>(): T => true as T;

// Never run: only type-checked (a call inside would start workers).
async function poolTypes(pool: PoolLike): Promise<void> {
  const n: number = await pool.apply(square, [3]);
  // @ts-expect-error: square takes a number
  await pool.apply(square, ["3"]);
  // @ts-expect-error: add takes two arguments
  await pool.apply(add, [1]);
  // @ts-expect-error: square returns a number
  const s: string = await pool.apply(square, [3]);
  expectType<number>(await pool.applyAsync(add, [1, 2]));
  // @ts-expect-error: add takes numbers
  pool.applyAsync(add, [1, "2"]);
  const sums: number[] = await pool.starmap(add, [[1, 2], [3, 4]]);
  // @ts-expect-error: each entry is add's argument list
  await pool.starmap(add, [[1, "2"]]);
  await pool.starmapAsync(add, [[1, 2]]);
  // @ts-expect-error: each entry is add's argument list
  pool.starmapAsync(add, [["1", 2]]);
  const squares: number[] = await pool.map(square, [1, 2]);
  // @ts-expect-error: square takes numbers
  await pool.map(square, ["a"]);
  for await (const r of pool.imap(square, [1, 2])) expectType<number>(r);
  // @ts-expect-error: square takes numbers
  pool.imapUnordered(square, ["a"]);
  yes<Equal<Awaited<ReturnType<typeof pool.apply<typeof square>>>, number>>();
  console.log(n, s, sums, squares);
}

function processTypes(): void {
  new Process({ target: exitWith, args: [3] });
  // @ts-expect-error: exitWith takes a number
  new Process({ target: exitWith, args: ["3"] });
  // @ts-expect-error: exitWith takes one argument
  new Process({ target: exitWith, args: [1, 2] });
  const { Process: P } = getContext("worker");
  // @ts-expect-error: typed through a context too
  new P({ target: exitWith, args: ["3"] });
}

// Both pools implement the same, typed, interface.
const _local: PoolLike = null as unknown as Pool;
const _cluster: PoolLike = null as unknown as ClusterPool;

Deno.test("types: the type-level checks above compile (see the file's head)", () => {
  assertEquals(typeof poolTypes, "function");
  assertEquals(typeof processTypes, "function");
});

Deno.test("new Process() refuses an unknown option, naming the closest valid one", () => {
  assertThrows(
    () => new Process({ target: exitWith, startmethod: "worker" } as never),
    TypeError,
    "Cannot create process: 'startmethod' is not an option; did you mean 'startMethod'?",
  );
  assertThrows(
    () => new Process({ tagret: exitWith } as never),
    TypeError,
    "did you mean 'target'?",
  );
});

Deno.test("new Pool() and its calls refuse unknown options, naming the closest valid one", async () => {
  assertThrows(
    () => new Pool({ procesess: 2 } as never),
    TypeError,
    "Cannot create pool: 'procesess' is not an option; did you mean 'processes'?",
  );
  await using pool = new Pool({ processes: 1, startMethod: "worker" });
  const module = new URL("./fixtures/pool_targets.ts", import.meta.url).href;
  await assertRejectsWith(
    () => pool.map(square, [1], { chunkSize: 2, module } as never),
    "Cannot map: 'chunkSize' is not an option; did you mean 'chunksize'?",
  );
  await assertRejectsWith(
    () => pool.apply(square, [1], { singal: undefined, module } as never),
    "Cannot submit task: 'singal' is not an option; did you mean 'signal'?",
  );
});

Deno.test("Queue.get() and put() refuse unknown options", async () => {
  await using q = new Queue<number>();
  await assertRejectsWith(
    () => q.put(1, { timout: 10 } as never),
    "Cannot put to queue: 'timout' is not an option; did you mean 'timeout'?",
  );
  await assertRejectsWith(
    () => q.get({ blocking: false } as never),
    "Cannot get from queue: 'blocking' is not an option; did you mean 'block'?",
  );
});

async function assertRejectsWith(fn: () => Promise<unknown>, message: string): Promise<void> {
  try {
    await fn();
  } catch (err) {
    assertEquals(err instanceof TypeError, true, String(err));
    assertEquals((err as Error).message, message);
    return;
  }
  throw new Error(`Expected a rejection: ${message}`);
}
