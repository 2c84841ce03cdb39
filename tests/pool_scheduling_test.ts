// Pool scheduling (issue #15): tasks spread over every worker, results
// stream out as they are ready, short tasks never wait behind a long one,
// and one AbortSignal costs one listener. Every test asserts order and
// placement, never time; tasks that wait for each other do so on marker
// files with a guard, so that a wrong schedule fails instead of hanging.
import { assert, assertEquals, assertRejects } from "@std/assert";
import { Pool } from "../mod.ts";
import type { StartMethod } from "../process.ts";
import {
  bigThenSpin,
  mark,
  meet,
  nap,
  napIdent,
  quickIdent,
  waitFile,
  waitOrNap,
} from "./fixtures/pool_sched_targets.ts";
import { hangGuard, tempDir, testBoth } from "./_helpers.ts";

const module = new URL("./fixtures/pool_sched_targets.ts", import.meta.url).href;

/** How long a task waits for another before it gives up (and the test fails). */
const GUARD_MS = 15_000;

/** Rejects when `p` has not settled after `ms`: a broken scheduler fails the test, never hangs it. */
function guarded<T>(p: Promise<T>, what: string, ms = 2 * GUARD_MS): Promise<T> {
  return hangGuard(p, ms, what);
}

/** Resolves once every one of the pool's `n` workers has run a task. */
async function allStarted(pool: Pool, n: number): Promise<void> {
  const seen = new Set<string>();
  for (let i = 0; i < 300 && seen.size < n; i++) {
    for (const id of await pool.map(napIdent, Array(2 * n).fill(20), { chunksize: 1 })) {
      seen.add(id);
    }
  }
  assertEquals(seen.size, n, "every worker started");
}

function pool(processes: number, startMethod: StartMethod): Pool {
  return new Pool({ processes, module, startMethod });
}

testBoth("Pool.imap() spreads a short input over every worker", async (startMethod) => {
  await using p = pool(4, startMethod);
  await allStarted(p, 4);
  for (const ordered of [true, false]) {
    const seen = new Set<string>();
    const it = ordered
      ? p.imap(napIdent, Array(8).fill(100))
      : p.imapUnordered(napIdent, Array(8).fill(100));
    await guarded(
      (async () => {
        for await (const id of it) seen.add(id);
      })(),
      "imap",
    );
    assertEquals(seen.size, 4, `${ordered ? "imap" : "imapUnordered"}: tasks seen on every worker`);
  }
});

testBoth(
  "Pool.imap() yields a result as soon as it is ready, reading a slow source lazily",
  async (startMethod) => {
    await using p = pool(1, startMethod);
    const events: string[] = [];
    const first = Promise.withResolvers<void>();
    async function* source(): AsyncGenerator<number> {
      for (let i = 0; i < 8; i++) {
        // The producer waits (with a guard) for the first result before item 5.
        if (i === 5) await guarded(first.promise, "first result", GUARD_MS).catch(() => {});
        events.push(`made ${i}`);
        yield i;
      }
    }
    const got: number[] = [];
    for await (const x of p.imap(nap, source(), {})) {
      if (got.length === 0) {
        events.push("first result");
        first.resolve();
      }
      got.push(x);
    }
    assertEquals(got, [0, 1, 2, 3, 4, 5, 6, 7]);
    assert(
      events.indexOf("first result") < events.indexOf("made 5"),
      `the first result comes before item 5 is made: ${events.join(", ")}`,
    );
  },
);

testBoth(
  "Pool.imap() reads no further than its window, and closes its source",
  async (startMethod) => {
    await using p = pool(2, startMethod);
    let made = 0;
    let closed = false;
    function* endless(): Generator<number> {
      try {
        while (true) yield made++;
      } finally {
        closed = true;
      }
    }
    const got: number[] = [];
    for await (const x of p.imap(nap, endless())) {
      got.push(x);
      if (got.length === 3) break;
    }
    assertEquals(got, [0, 1, 2]);
    assert(closed, "the source is closed when the consumer stops");
    assert(made <= 3 + 2 * 64, `the source was read ${made} items ahead`);
  },
);

testBoth("Pool: short tasks never wait behind a long one", async (startMethod) => {
  await using dir = await tempDir();
  await using p = pool(2, startMethod);
  await allStarted(p, 2);
  const order: string[] = [];
  // The long task ends only once every short one has: a short task queued
  // behind it on its worker would keep it waiting until its guard.
  const long = p.apply(waitFile, [`${dir.path}/shorts-done`, GUARD_MS]).then((ok) => {
    order.push("long");
    return ok;
  });
  const shorts = Array.from({ length: 10 }, (_, i) =>
    p.apply(nap, [i, 20]).then((x) => {
      order.push(`short ${x}`);
    }));
  await guarded(Promise.all(shorts), "short tasks");
  Deno.writeTextFileSync(`${dir.path}/shorts-done`, "");
  assertEquals(
    await guarded(long, "long task"),
    true,
    "every short task finished before the long one",
  );
  assertEquals(order.at(-1), "long");
});

testBoth(
  "Pool: tasks submitted at start run on every worker, none waits on a busy one",
  async (startMethod) => {
    await using dir = await tempDir();
    // Submitted before any worker is up: each waits until all four run at once.
    await using p = pool(4, startMethod);
    const met = await guarded(
      p.starmap(meet, [0, 1, 2, 3].map((i) => [dir.path, i, 4, GUARD_MS]), { chunksize: 1 }),
      "four tasks",
    );
    assertEquals(met.map(([all]) => all), [true, true, true, true], "all four ran at once");
    assertEquals(new Set(met.map(([, id]) => id)).size, 4);
  },
);

testBoth(
  "Pool.map() of many quick tasks runs on every worker, its window notwithstanding",
  async (startMethod) => {
    // 40k tasks of a few µs each: some 100 ms of work on one worker, far
    // more than the scheduler's 5 ms prefetch. The map holds back all but
    // a window of 2,048 (about 5 ms of them), which the scheduler must not
    // take for the whole map's work.
    await using p = pool(2, startMethod);
    await allStarted(p, 2);
    const n = 40_000;
    const ids = await guarded(p.map(quickIdent, Array(n).fill(0), { chunksize: 1 }), "map");
    const counts = new Map<string, number>();
    for (const id of ids) counts.set(id, (counts.get(id) ?? 0) + 1);
    assertEquals(counts.size, 2, "both workers ran tasks");
    const least = Math.min(...counts.values());
    assert(least >= n / 10, `a worker ran ${least} of ${n} tasks: ${[...counts.values()]}`);
  },
);

testBoth(
  "Pool.imapUnordered() takes back what a busy worker has not started",
  async (startMethod) => {
    await using dir = await tempDir();
    await using p = pool(2, startMethod);
    await allStarted(p, 2);
    // Quick calls first: the pool learns the function is quick, and may
    // queue quick items behind the one that turns out long.
    await p.map(waitOrNap, Array(40).fill({ ms: 0 }), { chunksize: 1 });
    const path = `${dir.path}/quick-done`;
    const items = [{ path, guardMs: GUARD_MS }, ...Array(30).fill({ ms: 1 })];
    const got: unknown[] = [];
    await guarded(
      (async () => {
        for await (const x of p.imapUnordered(waitOrNap, items)) {
          got.push(x);
          if (got.length === 30) Deno.writeTextFileSync(path, "");
        }
      })(),
      "imapUnordered",
    );
    assertEquals(got.at(-1), true, "the long item ends last, after all 30 quick ones");
  },
);

testBoth(
  "Pool: each result goes back when its task finishes, not with its batch",
  async (startMethod) => {
    await using dir = await tempDir();
    await using p = pool(1, startMethod);
    const path = `${dir.path}/first-received`;
    // Quick calls first, so that the worker is sent several at once.
    const warm = { i: 0, wait: -1, path, bytes: 1, busyMs: 0, guardMs: 0 };
    await p.map(bigThenSpin, Array(40).fill(warm), { chunksize: 1 });
    const items = [0, 1, 2, 3].map((i) => ({
      i,
      wait: 2,
      path,
      bytes: 4 << 20,
      busyMs: 100,
      guardMs: GUARD_MS,
    }));
    const got: unknown[] = [];
    await guarded(
      (async () => {
        for await (const r of p.imap(bigThenSpin, items)) {
          if (got.length === 0) Deno.writeTextFileSync(path, "");
          got.push(r);
        }
      })(),
      "imap of large results",
    );
    assertEquals(got[2], true, "the first result was received before the third task started");
    assertEquals((got[3] as Uint8Array).length, 4 << 20);
  },
);

testBoth(
  "Pool: one abort listener per signal, however many tasks share it",
  async (startMethod) => {
    await using p = pool(2, startMethod);
    const controller = new AbortController();
    const signal = controller.signal;
    let added = 0, removed = 0;
    const add = signal.addEventListener.bind(signal);
    const remove = signal.removeEventListener.bind(signal);
    signal.addEventListener =
      ((...args: Parameters<typeof add>) => (added++, add(...args))) as typeof add;
    signal.removeEventListener =
      ((...args: Parameters<typeof remove>) => (removed++, remove(...args))) as typeof remove;
    const results = Array.from({ length: 2000 }, (_, i) => p.applyAsync(nap, [i, 0], { signal }));
    assertEquals(await guarded(Promise.all(results), "2000 tasks"), [...Array(2000).keys()]);
    assert(added <= 1, `${added} listeners were added`);
    assertEquals(removed, added, "and removed once the tasks are done");
  },
);

testBoth(
  "Pool: aborting thousands of queued tasks runs none of them and leaves the event loop free",
  async (startMethod) => {
    await using dir = await tempDir();
    await using p = pool(1, startMethod);
    await p.starmap(mark, [[dir.path, -1], [dir.path, -2]], { chunksize: 1 }); // the worker is up, mark is known quick
    const gate = `${dir.path}/gate`;
    const blocker = p.apply(waitFile, [gate, GUARD_MS]);
    const controller = new AbortController();
    const n = 20_000;
    const marked = Array.from(
      { length: n },
      (_, i) =>
        p.apply(mark, [dir.path, i], { signal: controller.signal }).then(
          () => "ran",
          (e) => (e as Error).message,
        ),
    );
    await new Promise((r) => setTimeout(r, 50)); // some of them are on the worker by now
    const order: string[] = [];
    setTimeout(() => order.push("timer"), 0);
    marked.at(-1)!.then(() => order.push("last rejection"));
    // The timer is due before the abort starts (this is not a timed assertion).
    for (const until = performance.now() + 5; performance.now() < until;) { /* wait */ }
    controller.abort(new Error("not needed"));
    const outcomes = await guarded(Promise.all(marked), "aborted tasks");
    Deno.writeTextFileSync(gate, "");
    assertEquals(await guarded(blocker, "blocker"), true);
    assertEquals(new Set(outcomes), new Set(["not needed"]));
    const ran = [...Deno.readDirSync(dir.path)].filter((e) => /^ran-\d+$/.test(e.name));
    assertEquals(ran.length, 0, "no aborted task ran");
    assertEquals(order, ["timer", "last rejection"], "a timer ran before the last rejection");
  },
);

testBoth("Pool.map() never splices its queue", async (startMethod) => {
  await using p = pool(2, startMethod);
  await p.map(nap, [1, 2], { chunksize: 1 });
  const splice = Array.prototype.splice;
  let long = 0;
  Array.prototype.splice = function (this: unknown[], ...args: unknown[]) {
    if (this.length >= 5_000) long++;
    return (splice as (...a: unknown[]) => unknown[]).apply(this, args);
  } as typeof splice;
  let out: number[];
  try {
    out = await guarded(
      p.starmap(nap, Array.from({ length: 20_000 }, (_, i) => [i, 0]), { chunksize: 1 }),
      "map",
    );
  } finally {
    Array.prototype.splice = splice;
  }
  assertEquals(out.length, 20_000);
  assertEquals(long, 0, "splices of an array of 5,000 or more");
});

testBoth(
  "Pool.map() of many items in default chunks: order, values and errors",
  async (startMethod) => {
    await using p = pool(2, startMethod);
    const items = Array.from({ length: 100_000 }, (_, i) => i);
    const out = await guarded(p.starmap(nap, items.map((i) => [i, 0])), "map");
    assertEquals(out.length, items.length);
    assert(out.every((x, i) => x === i), "every result in input order");
    const odd = [undefined, null, { a: [1n] }, "s", -0];
    assertEquals(await p.map(waitOrNap, odd.map((x) => ({ ms: 0, value: x }))), odd);
    await assertRejects(
      () =>
        p.map(waitOrNap, [{ ms: 0 }, { ms: 0, fail: "third fails" }, { ms: 0 }], { chunksize: 2 }),
      Error,
      "third fails",
    );
  },
);
