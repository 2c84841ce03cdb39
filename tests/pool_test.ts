import {
  assert,
  assertEquals,
  assertInstanceOf,
  assertRejects,
  assertStringIncludes,
  assertThrows,
} from "@std/assert";
import { BrokenPoolError, Pool, ProcessError, Queue, WorkerDiedError } from "../mod.ts";
import {
  add,
  busySpan,
  busyWhere,
  closeSelf,
  die,
  fails,
  flakyInit,
  grow,
  ident,
  init,
  pid,
  readInit,
  readOne,
  same,
  slow,
  square,
  squareUnless3,
  throwLater,
  unserializable,
  writeOne,
} from "./fixtures/pool_targets.ts";
import { START_METHODS, tempDir, testBoth } from "./_helpers.ts";
import { state } from "../_internal/base/state.ts";

const module = new URL("./fixtures/pool_targets.ts", import.meta.url).href;

function* upTo(n: number, failAt = -1): Generator<number> {
  for (let i = 0; i < n; i++) {
    if (i === failAt) throw new RangeError(`input failed at ${i}`);
    yield i;
  }
}

testBoth(
  "Pool: apply, map and starmap, with and without chunksize, empty input",
  async (startMethod) => {
    await using pool = new Pool({ processes: 2, module, startMethod });
    assertEquals(await pool.apply(square, [5]), 25);
    const xs = [...upTo(50)];
    assertEquals(await pool.map(square, xs), xs.map((x) => x * x));
    assertEquals(await pool.map(square, xs, { chunksize: 7 }), xs.map((x) => x * x));
    assertEquals(await pool.starmap(add, xs.map((x) => [x, 1])), xs.map((x) => x + 1));
    assertEquals(await pool.starmap(add, [[1, 2]], { chunksize: 3 }), [3]);
    assertEquals(await pool.map(square, []), []);
    assertEquals(await pool.mapAsync(square, [3]).get(), [9]);
  },
);

testBoth(
  "Pool: a result is taken when its task ends, not when the worker sends its batch of results",
  async (startMethod) => {
    // One worker: tasks measured quick go to it in batches, their results back together.
    await using pool = new Pool({ processes: 1, module, startMethod });
    const xs = [1, 2, 3, 4, 5, 6, 7, 8];
    const asReturned = xs.map((_, i) => xs.slice(0, i + 1));
    const mapped = await pool.starmap(grow, xs.map((x) => ["map", x]), { chunksize: 1 });
    assertEquals(mapped, asReturned);
    const applied = await Promise.all(xs.map((x) => pool.apply(grow, ["apply", x])));
    assertEquals(applied, asReturned);
  },
);

testBoth("Pool: callbacks are called once, AsyncResult reports its state", async (startMethod) => {
  await using pool = new Pool({ processes: 1, module, startMethod });
  const got: unknown[] = [];
  const ok = pool.applyAsync(square, [3], { callback: (v) => got.push(v) });
  const bad = pool.applyAsync(fails, ["boom"], {
    errorCallback: (e) => got.push((e as Error).message),
  });
  assertThrows(() => bad.successful(), Error, "not ready");
  assertEquals(await ok, 9);
  await bad.wait();
  assertEquals(ok.ready(), true);
  assertEquals(ok.successful(), true);
  assertEquals(bad.successful(), false);
  const err = await assertRejects(() => bad.get(), RangeError, "boom");
  assert(err.stack?.includes("fails"), "the remote stack is kept");
  assertEquals(got.sort(), [9, "boom"].sort());
});

testBoth(
  "Pool: get(timeout) rejects with TimeoutError while the pool keeps working",
  async (startMethod) => {
    await using pool = new Pool({ processes: 2, module, startMethod });
    const long = pool.applyAsync(slow, [500]);
    const err = await assertRejects(() => long.get(50));
    assertInstanceOf(err, DOMException);
    assertEquals(err.name, "TimeoutError");
    assertEquals(await pool.apply(square, [4]), 16);
    assertEquals(await long.get(), 500);
  },
);

testBoth(
  "Pool: an input iterable that throws: map raises it, imap yields what came before",
  async (startMethod) => {
    await using pool = new Pool({ processes: 2, module, startMethod });
    await assertRejects(() => pool.map(square, upTo(10, 3)), RangeError, "input failed at 3");
    const seen: number[] = [];
    await assertRejects(
      async () => {
        for await (const v of pool.imap(square, upTo(10, 3))) seen.push(v);
      },
      RangeError,
      "input failed at 3",
    );
    assertEquals(seen, [0, 1, 4]);
  },
);

/** Every outcome of `next()` until done: values, and each rejection's message. */
async function drain(it: AsyncIterator<number>): Promise<(number | string)[]> {
  const out: (number | string)[] = [];
  while (true) {
    try {
      const r = await it.next();
      if (r.done) return out;
      out.push(r.value);
    } catch (err) {
      out.push((err as Error).message);
    }
  }
}

testBoth(
  "Pool.imap(): next() rejects for a failed item, then resolves the following ones (as Python's)",
  async (startMethod) => {
    await using pool = new Pool({ processes: 2, module, startMethod });
    const it = pool.imap(squareUnless3, [1, 2, 3, 4, 5]);
    assertEquals(await drain(it), [1, 4, "3 is refused", 16, 25]);
    const un = await drain(pool.imapUnordered(squareUnless3, [1, 2, 3, 4, 5]));
    assertEquals(un.length, 5);
    assertEquals(un.filter((v) => v === "3 is refused").length, 1);
    // A for-await loop stops at the first error, as JavaScript's does.
    const seen: number[] = [];
    await assertRejects(async () => {
      for await (const v of pool.imap(squareUnless3, [1, 2, 3, 4])) seen.push(v);
    }, RangeError);
    assertEquals(seen, [1, 4]);
  },
);

testBoth("Pool: imap keeps order, imapUnordered yields everything", async (startMethod) => {
  await using pool = new Pool({ processes: 2, module, startMethod });
  const ordered: number[] = [];
  for await (const v of pool.imap(square, upTo(100))) ordered.push(v);
  assertEquals(ordered, [...upTo(100)].map((x) => x * x));
  const unordered: number[] = [];
  for await (const v of pool.imapUnordered(square, upTo(100), { chunksize: 3 })) unordered.push(v);
  assertEquals(unordered.sort((a, b) => a - b), [...upTo(100)].map((x) => x * x));
});

testBoth(
  "Pool: a task that kills its worker fails with WorkerDiedError; the next tasks succeed",
  async (startMethod) => {
    await using pool = new Pool({ processes: 2, module, startMethod });
    for (let i = 0; i < 3; i++) {
      const err = await assertRejects(() => pool.apply(die, [7]), WorkerDiedError);
      assert(err.message.includes("exit code 7"), err.message);
      assert(/Pool worker Process-[\d:]+ \(pid \d+\)/.test(err.message), err.message);
      assertEquals(await pool.map(square, [1, 2, 3]), [1, 4, 9]);
    }
  },
);

testBoth(
  "Pool: an unserializable result fails that task only, twenty times in a row",
  async (startMethod) => {
    await using pool = new Pool({ processes: 2, module, startMethod });
    await pool.map(slow, [100, 100, 100, 100], { chunksize: 1 }); // both workers are up
    const before = new Set(await pool.map(pid, [...upTo(20)], { chunksize: 1 }));
    for (let i = 0; i < 20; i++) {
      await assertRejects(() => pool.apply(unserializable, []), DOMException);
    }
    assertEquals(await pool.apply(square, [6]), 36);
    const after = await pool.map(pid, [...upTo(20)], { chunksize: 1 });
    if (startMethod === "subprocess") {
      for (const p of after) assert(before.has(p), `worker ${p} is new: one was lost`);
    }
  },
);

testBoth("Pool: maxTasksPerChild gives fresh workers and correct results", async (startMethod) => {
  await using pool = new Pool({ processes: 1, module, startMethod, maxTasksPerChild: 2 });
  // ident tells workers apart for both start methods (a worker's pid is ours).
  const idents = await pool.map(ident, [...upTo(6)], { chunksize: 1 });
  assertEquals(new Set(idents).size, 3);
  assertEquals(await pool.map(square, [...upTo(6)], { chunksize: 1 }), [0, 1, 4, 9, 16, 25]);
});

testBoth("Pool: the initializer runs in each worker before its tasks", async (startMethod) => {
  await using pool = new Pool({
    processes: 2,
    module,
    startMethod,
    initializer: init,
    initargs: ["ready"],
  });
  assertEquals(await pool.map(readInit, [1, 2, 3, 4]), ["ready", "ready", "ready", "ready"]);
});

testBoth(
  "Pool: terminate() with thousands of queued tasks returns promptly and fails them",
  async (startMethod) => {
    const pool = new Pool({ processes: 2, module, startMethod });
    const results = [...upTo(3000)].map(() => pool.applyAsync(slow, [10]));
    await results[0];
    pool.terminate();
    await pool.join();
    const settled = await Promise.allSettled(results.map((r) => r.get()));
    assert(settled.some((s) => s.status === "rejected"));
    await assertRejects(() => pool.apply(square, [1]), ProcessError, "terminated");
  },
);

testBoth(
  "Pool: a signal cancels a queued task without running it, and fails a running one",
  async (startMethod) => {
    await using pool = new Pool({ processes: 1, module, startMethod });
    const running = new AbortController();
    const first = pool.applyAsync(slow, [300], { signal: running.signal });
    const queued = new AbortController();
    const second = pool.applyAsync(square, [2], { signal: queued.signal });
    queued.abort(new Error("not needed"));
    await assertRejects(() => second.get(), Error, "not needed");
    running.abort(new Error("too slow"));
    await assertRejects(() => first.get(), Error, "too slow");
    assertEquals(await pool.apply(square, [3]), 9);
  },
);

Deno.test("Pool: validates its options and its state", async () => {
  assertThrows(() => new Pool(0), RangeError, "'processes' must be a positive integer, received 0");
  assertThrows(() => new Pool({ maxTasksPerChild: -1 }), RangeError, "'maxTasksPerChild'");
  // Python: a positive int or None; "no limit" is undefined here.
  assertThrows(
    () => new Pool({ maxTasksPerChild: 0 }),
    RangeError,
    "'maxTasksPerChild' must be a positive integer, received 0",
  );
  assertThrows(
    () => new Pool({ initializer: 5 as never }),
    TypeError,
    "'initializer' must be a function",
  );
  // What its workers' processes would refuse, refused before any starts.
  assertThrows(
    () => new Pool({ startMethod: "fork" as never }),
    RangeError,
    `'startMethod' must be "subprocess" or "worker", received 'fork'`,
  );
  assertThrows(
    () => new Pool({ runtimeArgs: [1] as never }),
    TypeError,
    "'runtimeArgs' must be an array of strings",
  );
  const pool = new Pool({ processes: 1, module });
  await assertRejects(() => pool.join(), ProcessError, "call close() or terminate() first");
  pool.close();
  await assertRejects(() => pool.apply(square, [1]), ProcessError, "the pool is closed");
  await pool.join();
});

testBoth("Pool: a queue can be a task argument (unlike Python)", async (startMethod) => {
  const { Queue } = await import("../mod.ts");
  const { putOnQueue } = await import("./fixtures/pool_targets.ts");
  await using q = new Queue<number>();
  await using pool = new Pool({ processes: 2, module, startMethod });
  assertEquals(await pool.starmap(putOnQueue, [[q, 1], [q, 2], [q, 3]]), [1, 2, 3]);
  const got = [await q.get(), await q.get(), await q.get()].sort((a, b) => a - b);
  assertEquals(got, [10, 20, 30]);
});

Deno.test("Pool: 100 worker deaths in a row leave no zombie, no socket and no hang", async () => {
  await using pool = new Pool({ processes: 2, module });
  const pids = new Set<number>();
  for (let i = 0; i < 100; i++) {
    pids.add(await pool.apply(pid, []));
    await assertRejects(() => pool.apply(die, [1]), WorkerDiedError);
  }
  assertEquals(await pool.apply(square, [9]), 81);
  pool.close();
  await pool.join();
  // Every worker that ran is gone, reaped (not a zombie).
  for (const p of pids) {
    let state = "";
    try {
      state = Deno.readTextFileSync(`/proc/${p}/stat`).split(") ")[1]?.[0] ?? "";
    } catch { /* gone */ }
    assert(state === "", `worker ${p} is still there (state ${state})`);
  }
});

testBoth(
  "tasks with handles run one at a time per worker, as in Python: readers submitted before their writers finish",
  async (startMethod) => {
    await using q = new Queue<number>();
    await using pool = new Pool({ processes: 3, module, startMethod });
    const results: Promise<unknown>[] = [];
    for (let i = 0; i < 10; i++) {
      results.push(pool.apply(readOne, [q]));
      results.push(pool.apply(writeOne, [q, i]));
    }
    const got = (await Promise.all(results)).filter((v) => v !== undefined) as number[];
    assertEquals(got.sort((a, b) => a - b), Array.from({ length: 10 }, (_, i) => i));
  },
);

testBoth(
  "Pool: a worker that dies, then a replacement killed while it starts: only the task that ran fails",
  async (startMethod) => {
    await using dir = await tempDir();
    await using pool = new Pool({
      processes: 1,
      module,
      startMethod,
      initializer: flakyInit,
      initargs: [dir.path, 2, "kill"],
    });
    const dead = pool.apply(die, [1]);
    const queued = Array.from({ length: 10 }, (_, i) => pool.apply(square, [i]));
    await assertRejects(() => dead, WorkerDiedError);
    assertEquals(await Promise.all(queued), [0, 1, 4, 9, 16, 25, 36, 49, 64, 81]);
    assertEquals(await pool.apply(square, [12]), 144);
  },
);

testBoth(
  "Pool: an initializer that always throws breaks the pool with its error, and close/join resolve",
  async (startMethod) => {
    await using dir = await tempDir();
    const pool = new Pool({
      processes: 2,
      module,
      startMethod,
      initializer: flakyInit,
      initargs: [dir.path, 0, "throw"],
    });
    const err = await assertRejects(
      () => pool.apply(square, [2]),
      BrokenPoolError,
    ) as BrokenPoolError;
    assertStringIncludes(err.message, "initializer failed on start");
    assertInstanceOf(err.cause, RangeError);
    await assertRejects(() => pool.map(square, [1, 2]), BrokenPoolError);
    pool.close();
    await pool.join();
  },
);

testBoth(
  "Pool: a parent that blocks its event loop past the start timeout does not fail its workers' start",
  async (startMethod) => {
    // A first start type-checks the worker's modules (under `deno test`): done
    // before the short timeout, so that it bounds only the stall below.
    await using warm = new Pool({ processes: 1, module, startMethod });
    assertEquals(await warm.apply(square, [2]), 4);
    const saved = state().startTimeoutMs;
    state().startTimeoutMs = 1000;
    try {
      await using pool = new Pool({ processes: 2, module, startMethod });
      const end = Date.now() + 3000;
      while (Date.now() < end) { /* the parent is busy: its timers and I/O wait */ }
      assertEquals(await pool.map(square, [1, 2, 3]), [1, 4, 9]);
    } finally {
      state().startTimeoutMs = saved;
    }
  },
);

// self.close() ends a worker thread; in a subprocess it is Deno's
// window.close(), which ends nothing.
const ENDINGS = [
  ["self.close()", closeSelf, ["worker"]],
  ["an uncaught error", throwLater, START_METHODS],
] as const;
for (const [what, fn, methods] of ENDINGS) {
  testBoth(
    `Pool: a worker ended by ${what} fails exactly its task with WorkerDiedError and is replaced`,
    async (startMethod) => {
      if (!(methods as readonly string[]).includes(startMethod)) return;
      await using pool = new Pool({ processes: 1, module, startMethod });
      const dead = pool.apply(fn);
      const queued = [1, 2, 3].map((x) => pool.apply(square, [x]));
      await assertRejects(() => dead, WorkerDiedError);
      assertEquals(await Promise.all(queued), [1, 4, 9]);
    },
  );
}

testBoth(
  "Pool: long synchronous calls of a function first seen quick still spread over every worker",
  async (startMethod) => {
    await using pool = new Pool({ processes: 2, module, startMethod });
    // Taught that busyWhere is quick: the scheduler may prefetch many onto one worker.
    await pool.map(busyWhere, Array(8).fill(0), { chunksize: 1 });
    const where = await pool.map(busyWhere, Array(16).fill(60), { chunksize: 1 });
    assertEquals(new Set(where).size, 2, `tasks ran on ${[...new Set(where)]}`);
  },
);

testBoth(
  "Pool: tasks sent in a batch as quick and found slow go to an idle worker before the busy one starts its next",
  async (startMethod) => {
    await using pool = new Pool({ processes: 2, module, startMethod });
    // Taught that busySpan is quick (a few hundred calls bring its measure
    // down from its first, slower ones): a worker is sent the next four in
    // one batch.
    for (let i = 0; i < 4; i++) await pool.map(busySpan, Array(100).fill(0), { chunksize: 1 });
    const spans = await pool.map(busySpan, Array(4).fill(150), { chunksize: 1 });
    const byWorker = [...Map.groupBy(spans, ([who]) => who).values()];
    assertEquals(byWorker.length, 2, `tasks ran on one worker: ${JSON.stringify(spans)}`);
    // A worker that ran a task far past what was expected gave back what
    // it held at once, so neither ran two while the other waited (the other
    // had started before its second ended; not once a reclaim reached it
    // after that one).
    const [a, b] = byWorker.map((s) => s.toSorted((x, y) => x[1] - y[1]));
    for (const [mine, other] of [[a, b], [b, a]]) {
      if (other.length < 2) continue;
      assert(mine[0][1] < other[1][2], `one worker waited for two tasks: ${JSON.stringify(spans)}`);
    }
  },
);

testBoth(
  "arguments changed after their call go as they were at the call (apply, map, starmap, imap)",
  async (startMethod) => {
    await using pool = new Pool({ processes: 1, startMethod, module });
    // A first task occupies the worker: what follows waits in the pool's queue.
    const busy = pool.applyAsync(slow, [50]);
    const obj: Record<string, unknown> = { x: 1, list: [1] };
    const map = new Map([["k", 1]]);
    const applied = pool.applyAsync(same, [obj]);
    const appliedMap = pool.applyAsync(same, [map]);
    const mapped = pool.map(same, [obj, map], { chunksize: 1 });
    const starmapped = pool.starmap(same, [[obj], [map]], { chunksize: 1 });
    const it = pool.imap(same, [obj]);
    const first = it.next();
    obj.x = 2;
    (obj.list as number[]).push(2);
    map.set("k", 2);
    await busy;
    const asWas = { x: 1, list: [1] };
    assertEquals(await applied, asWas);
    assertEquals(await appliedMap, new Map([["k", 1]]));
    assertEquals(await mapped, [asWas, new Map([["k", 1]])]);
    assertEquals(await starmapped, [asWas, new Map([["k", 1]])]);
    assertEquals((await first).value, asWas);
    await it.return?.();
  },
);

testBoth(
  "a function among apply's arguments or map's items is refused at the call; the pool goes on",
  async (startMethod) => {
    await using pool = new Pool({ processes: 1, startMethod, module });
    const fn = () => 1;
    await assertRejects(() => pool.apply(same, [fn]), DOMException);
    await assertRejects(() => pool.map(same, [1, fn]), DOMException);
    await assertRejects(() => pool.map(same, [Symbol("s")]), DOMException);
    await assertRejects(() => pool.starmap(same, [[1], [fn]]), DOMException);
    const it = pool.imap(same, [fn]);
    await assertRejects(() => it.next(), DOMException);
    assertEquals(await pool.map(same, [1, 2]), [1, 2]);
  },
);
