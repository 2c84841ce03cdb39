import {
  assert,
  assertEquals,
  assertInstanceOf,
  assertRejects,
  assertStringIncludes,
  assertThrows,
} from "@std/assert";
import {
  Event,
  JoinableQueue,
  Pool,
  Process,
  Queue,
  QueueClosedError,
  QueueEmptyError,
  QueueFullError,
  SimpleQueue,
  type StartMethod,
} from "../mod.ts";
import {
  answerInside,
  blockedGet,
  consume,
  getThenReport,
  produce,
  relay,
  takeN,
  tightProducer,
  viaGrandchild,
  worker,
} from "./fixtures/queue_targets.ts";
import { outlasts, testBoth } from "./_helpers.ts";
import { asHanded } from "./fixtures/changing.ts";

/** The documented bound of a producer's unsent bytes per queue (README). */
const UNSENT_MARK = 1 << 20;

const module = new URL("./fixtures/queue_targets.ts", import.meta.url).href;

Deno.test("Queue(6) follows Python's semantics: full, nowait, timeouts, order, qsize", async () => {
  await using q = new Queue<number>(6);
  assertEquals(await q.empty(), true);
  assertEquals(q.maxsize, 6);
  for (let i = 0; i < 6; i++) {
    await q.put(i);
    assertEquals(await q.qsize(), i + 1);
  }
  assertEquals(await q.full(), true);
  await assertRejects(() => q.putNowait(6), QueueFullError);
  await assertRejects(() => q.put(6, { block: false }), QueueFullError);
  const put = q.put(6, { timeout: 100 });
  assert(await outlasts(put, 50), "a timed put waits its timeout");
  await assertRejects(() => put, QueueFullError);
  assertEquals(await q.get(), 0);
  assertEquals(await q.get({ block: true }), 1);
  assertEquals(await q.get({ timeout: 10 }), 2);
  assertEquals(await q.getNowait(), 3);
  assertEquals(await q.get({ block: false }), 4);
  assertEquals(await q.get(), 5);
  assertEquals(await q.qsize(), 0);
  await assertRejects(() => q.getNowait(), QueueEmptyError, "it is empty");
  const get = q.get({ timeout: 100 });
  assert(await outlasts(get, 50), "a timed get waits its timeout");
  await assertRejects(() => get, QueueEmptyError);
});

Deno.test("Queue validates its arguments", async () => {
  assertThrows(
    () => new Queue(-1),
    RangeError,
    "'maxsize' must be a non-negative integer, received -1",
  );
  assertThrows(() => new Queue(1.5), RangeError);
  await using q = new Queue();
  await assertRejects(
    () => q.get({ timeout: -5 }),
    RangeError,
    "'timeout' must be a non-negative number",
  );
  await assertRejects(() => q.put(1, { timeout: NaN }), RangeError);
});

Deno.test("a blocked put and get wake when room or an item appears, and a signal aborts them", async () => {
  await using q = new Queue<string>(1);
  await q.put("a");
  const putting = q.put("b");
  assertEquals(await q.get(), "a");
  await putting;
  assertEquals(await q.get(), "b");
  const ctl = new AbortController();
  const getting = q.get({ signal: ctl.signal });
  ctl.abort(new Error("stop"));
  await assertRejects(() => getting, Error, "stop");
  await q.put("c");
  assertEquals(await q.get(), "c", "the aborted get took nothing");
});

Deno.test("close(): puts reject carrying the item, gets drain then reject, iteration ends", async () => {
  await using q = new Queue<number>();
  await q.put(1);
  await q.put(2);
  q.close();
  q.close(); // idempotent
  const err = await assertRejects(() => q.put(3), QueueClosedError);
  assertEquals(err.item, 3);
  const seen: number[] = [];
  for await (const item of q) seen.push(item);
  assertEquals(seen, [1, 2]);
  await assertRejects(() => q.get(), QueueClosedError, "closed and empty");
});

Deno.test("a waiting get rejects when the queue is closed", async () => {
  await using q = new Queue();
  const waiting = q.get();
  q.close();
  await assertRejects(() => waiting, QueueClosedError);
});

Deno.test("JoinableQueue: join after every taskDone; one extra taskDone throws", async () => {
  await using q = new JoinableQueue<number>();
  for (let i = 0; i < 3; i++) await q.put(i);
  let joined = false;
  const joining = q.join().then(() => (joined = true));
  for (let i = 0; i < 3; i++) {
    await q.get();
    assertEquals(joined, false);
    await q.taskDone();
  }
  await joining;
  assertEquals(joined, true);
  await assertRejects(() => q.taskDone(), RangeError, "called more times than items were put");
});

Deno.test("SimpleQueue: put, get, empty, close", async () => {
  await using q = new SimpleQueue<{ n: number }>();
  assertEquals(await q.empty(), true);
  await q.put({ n: 1 });
  assertEquals(await q.empty(), false);
  assertEquals(await q.get(), { n: 1 });
  q.close();
  await assertRejects(() => q.put({ n: 2 }), QueueClosedError);
});

Deno.test("an unserializable item rejects that put and the queue keeps working", async () => {
  await using q = new Queue<unknown>();
  const err = await assertRejects(() => q.put({ fn: () => 1 }));
  assertInstanceOf(err, DOMException);
  assertEquals(err.name, "DataCloneError");
  await q.put("next");
  assertEquals(await q.get(), "next");
  assertEquals(await q.qsize(), 0);
});

/**
 * Runs the queue target `name` on `q` in a child, `check` while it runs,
 * then `"after"` must come last and the child exit with 0.
 */
async function putsFromChild(
  name: "putThenChange" | "putUnawaitedThenChange",
  q: Queue<unknown>,
  startMethod: StartMethod,
  check: () => Promise<void>,
): Promise<void> {
  const target = (await import("./fixtures/queue_targets.ts"))[name];
  await using p = new Process({ target, args: [q], module, startMethod });
  await p.start();
  await check();
  assertEquals(await q.get(), "after");
  await p.join();
  assertEquals(p.exitCode, 0);
}

testBoth("an item changed after its put arrives as it was put", async (startMethod) => {
  await using q = new Queue<unknown>();
  await putsFromChild("putThenChange", q, startMethod, async () => {
    assertEquals(await q.get(), { x: 1, list: [1], inner: { y: "a" } });
  });
});

testBoth("items changed after unawaited puts arrive as they were put", async (startMethod) => {
  for (const maxsize of [0, 10]) {
    await using q = new Queue<unknown>({ maxsize });
    await putsFromChild("putUnawaitedThenChange", q, startMethod, async () => {
      for (const v of asHanded()) assertEquals(await q.get(), v);
    });
  }
});

testBoth(
  "a queue passed to a child stays one queue: items come back in order",
  async (startMethod) => {
    await using q = new Queue<number>();
    await using p = new Process({ target: produce, args: [q, 50], module, startMethod });
    await p.start();
    const got: number[] = [];
    for (let i = 0; i < 50; i++) got.push(await q.get());
    await p.join();
    assertEquals(p.exitCode, 0);
    assertEquals(got, Array.from({ length: 50 }, (_, i) => i));
  },
);

testBoth("items of every structured-clone kind cross a queue both ways", async (startMethod) => {
  await using q = new Queue<unknown>();
  await using out = new Queue<unknown>();
  const items = [
    { a: [1, "x", null] },
    new Map([[1, new Set(["s"])]]),
    new Date(7),
    12345678901234567890n,
    new Uint8Array([1, 2, 3]),
    undefined,
    NaN,
    new RangeError("as data"),
  ];
  await using p = new Process({
    target: consume,
    args: [q, out, items.length],
    module,
    startMethod,
  });
  await p.start();
  for (const item of items) await q.put(item);
  const back: unknown[] = [];
  for (let i = 0; i < items.length; i++) back.push(await out.get());
  await p.join();
  assertEquals(back.slice(0, 7), items.slice(0, 7));
  assert(Number.isNaN(back[6]));
  assertInstanceOf(back[7], RangeError);
  assertEquals((back[7] as Error).message, "as data");
});

testBoth("order is kept per producer across several producers", async (startMethod) => {
  await using q = new Queue<number>();
  const producers = [0, 1000, 2000].map((offset) =>
    new Process({ target: produce, args: [q, 100, offset], module, startMethod })
  );
  for (const p of producers) await p.start();
  const got: number[] = [];
  for (let i = 0; i < 300; i++) got.push(await q.get());
  for (const p of producers) {
    await p.join();
    assertEquals(p.exitCode, 0);
  }
  for (const offset of [0, 1000, 2000]) {
    const mine = got.filter((n) => n >= offset && n < offset + 100);
    assertEquals(mine, Array.from({ length: 100 }, (_, i) => offset + i));
  }
});

testBoth("a queue reaches a grandchild", async (startMethod) => {
  await using q = new Queue<number>();
  await using p = new Process({
    target: viaGrandchild,
    args: [q, startMethod],
    module,
    startMethod,
  });
  await p.start();
  assertEquals([await q.get(), await q.get()], [100, 101]);
  await p.join();
  assertEquals(p.exitCode, 0);
});

testBoth(
  "JoinableQueue across a child: join returns after the child's taskDone calls",
  async (startMethod) => {
    await using q = new JoinableQueue<number>();
    await using out = new Queue<number>();
    await using p = new Process({ target: worker, args: [q, out], module, startMethod });
    await p.start();
    for (let i = 0; i < 20; i++) await q.put(i);
    await q.join();
    assertEquals(await out.qsize(), 20);
    q.close();
    await p.join();
    assertEquals(p.exitCode, 0);
  },
);

testBoth("a relay child drains a closed queue and closes the next one", async (startMethod) => {
  await using qin = new Queue<number>();
  await using qout = new Queue<number>();
  await using p = new Process({ target: relay, args: [qin, qout], module, startMethod });
  await p.start();
  for (let i = 0; i < 1000; i++) await qin.put(i);
  qin.close();
  let sum = 0;
  for await (const item of qout) sum += item;
  assertEquals(sum, 999 * 1000 / 2);
  await p.join();
  assertEquals(p.exitCode, 0);
});

testBoth("a consumer killed while blocked in get loses no item", async (startMethod) => {
  await using q = new Queue<number>();
  await using ready = new Queue<string>();
  await using p = new Process({ target: blockedGet, args: [q, ready], module, startMethod });
  await p.start();
  assertEquals(await ready.get(), "ready");
  p.kill();
  await p.join();
  for (let i = 0; i < 5; i++) await q.put(i);
  const got: number[] = [];
  for (let i = 0; i < 5; i++) got.push(await q.get({ timeout: 2000 }));
  assertEquals(got, [0, 1, 2, 3, 4]);
});

testBoth(
  "a consumer killed mid-stream: every item not handed to it is still in the queue",
  async (startMethod) => {
    await using q = new Queue<number>();
    await using out = new Queue<number>();
    for (let i = 0; i < 2000; i++) await q.put(i);
    // The child relays items one by one; kill it partway.
    await using p = new Process({ target: consume, args: [q, out, 2000], module, startMethod });
    await p.start();
    const relayed: number[] = [await out.get()];
    p.kill();
    await p.join();
    // Whatever the child relayed arrived; the rest is back in the queue.
    while (true) {
      try {
        relayed.push(await out.get({ timeout: 200 }));
      } catch {
        break;
      }
    }
    const rest: number[] = [];
    while (!(await q.empty())) rest.push(await q.get());
    const seen = new Set([...relayed, ...rest]);
    for (let i = 0; i < 2000; i++) assert(seen.has(i), `item ${i} was lost`);
  },
);

testBoth("a producer killed mid-stream leaves the queue usable", async (startMethod) => {
  await using q = new Queue<number>();
  await using p = new Process({ target: produce, args: [q, 1_000_000], module, startMethod });
  await p.start();
  await q.get();
  p.kill();
  await p.join();
  await q.put(-1);
  let last = 0;
  while (last !== -1) last = await q.get({ timeout: 2000 });
  assertEquals(await q.qsize(), 0);
});

testBoth("an unserializable item put by a child rejects that put only", async (startMethod) => {
  await using q = new Queue<unknown>();
  await using p = new Process({
    target: (await import("./fixtures/queue_targets.ts")).putUnserializable,
    args: [q],
    module,
    startMethod,
  });
  await p.start();
  assertStringIncludes(String(await q.get()), "DataCloneError");
  assertEquals(await q.get(), "still working");
  await p.join();
  assertEquals(p.exitCode, 0);
});

testBoth(
  "a consumer killed with items fetched ahead gives them back, even from a large backlog",
  async (startMethod) => {
    const { takeSomeAndWait } = await import("./fixtures/queue_targets.ts");
    await using q = new Queue<number>();
    await using ready = new Queue<string>();
    const n = 200_000;
    for (let i = 0; i < n; i++) await q.put(i);
    await using p = new Process({
      target: takeSomeAndWait,
      args: [q, ready, 20],
      module,
      startMethod,
    });
    await p.start();
    assertEquals(await ready.get(), "took 20");
    p.kill();
    await p.join();
    // The 20 handed out are gone; what it had fetched ahead is back, in order.
    assertEquals(await q.qsize(), n - 20);
    assertEquals(await q.get(), 20);
  },
);

testBoth(
  "consumers that stop asking give back what they fetched ahead: pool readers of 3 items each all finish",
  async (startMethod) => {
    await using q = new Queue<number>();
    await using pool = new Pool({ processes: 2, module, startMethod });
    for (let i = 0; i < 24; i++) await q.put(i);
    const got = await Promise.all(Array.from({ length: 8 }, () => pool.apply(takeN, [q, 3])));
    assertEquals(
      got.flat().sort((a, b) => (a as number) - (b as number)),
      Array.from({ length: 24 }, (_, i) => i),
    );
  },
);

// Issue #12, item 3: a producer that never yields to the event loop sent
// nothing (its puts resolved at once and buffered), and in the hosting
// process the same loop starved the queue's consumers.
testBoth(
  "Queue.put() in a tight loop in a child still delivers, with bounded unsent bytes",
  async (startMethod) => {
    const limit = 2_000_000;
    await using q = new Queue<{ i: number; pad: string }>();
    await using out = new Queue<{ sent: number; peak: number }>();
    await using stop = new Event();
    await using p = new Process({
      target: tightProducer,
      args: [q, stop, out, limit],
      module,
      startMethod,
    });
    await p.start();
    for (let i = 0; i < 2000; i++) {
      const item = await q.get({ timeout: 60_000 });
      assertEquals(item.i, i);
    }
    await stop.set();
    const { sent, peak } = await out.get({ timeout: 60_000 });
    // It saw the stop while still in its loop: its puts let the event loop turn.
    assert(sent < limit, `the producer put all ${sent} items before anything arrived`);
    // What it had accepted and not yet written stayed under the mark.
    assert(peak >= 0 && peak <= UNSENT_MARK + 4096, `peak unsent bytes ${peak}`);
    await p.join();
    assertEquals(p.exitCode, 0);
  },
);

testBoth(
  "Queue.put() in a tight loop in the hosting process lets its consumers run",
  async (startMethod) => {
    const limit = 2_000_000;
    await using q = new Queue<number>();
    await using out = new Queue<string>();
    await using p = new Process({
      target: getThenReport,
      args: [q, out, 1000],
      module,
      startMethod,
    });
    await p.start();
    let done = false;
    out.get().then(() => (done = true), () => {});
    let i = 0;
    for (; i < limit && !done; i++) await q.put(i);
    assert(i < limit, "the consumer got nothing while the loop ran");
    await p.join();
    assertEquals(p.exitCode, 0);
  },
);

// Issue #12, item 7: in the process that hosts it, a queue handed out the
// very object that was put (a pipe, or another process, gets a copy).
Deno.test("Queue.get() in the hosting process returns a copy of what was put, as elsewhere", async () => {
  await using q = new Queue<unknown>();
  const item = { list: [1, 2], when: new Date(0), nested: { n: 1 } };
  await q.put(item);
  item.nested.n = 2; // A change after the put does not reach the item.
  const got = await q.get() as typeof item;
  assert(got !== item, "the same object came back");
  assertEquals(got, { list: [1, 2], when: new Date(0), nested: { n: 1 } });
  const plain = { a: [1] };
  await q.put(plain);
  const back = await q.get();
  assert(back !== plain, "the same plain object came back");
  assertEquals(back, { a: [1] });
});

testBoth(
  "Queue: a handle inside an item arrives as a working handle, here and in a child",
  async (startMethod) => {
    await using q = new Queue<{ reply: Queue<string>; n: number }>();
    await using reply = new Queue<string>();
    // Here: the handle that comes back is a working queue handle.
    await q.put({ reply, n: 0 });
    const here = await q.get();
    assertInstanceOf(here.reply, Queue);
    await here.reply.put("here");
    assertEquals(await reply.get(), "here");
    // In a child: it answers on the queue it found inside the item.
    await using p = new Process({ target: answerInside, args: [q], module, startMethod });
    await p.start();
    await q.put({ reply, n: 1 });
    assertEquals(await reply.get({ timeout: 30_000 }), "answer 1");
    await p.join();
    assertEquals(p.exitCode, 0);
  },
);
