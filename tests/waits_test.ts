// One waiting convention: every wait takes a trailing { timeout, signal }
// (milliseconds), a bare number where Python passes a timeout positionally,
// a boolean where Python passes `block`; undefined waits for ever, except
// poll(), whose default is 0 as in Python.
import { assertEquals, assertInstanceOf, assertRejects } from "@std/assert";
import {
  Barrier,
  Condition,
  Event,
  JoinableQueue,
  Lock,
  Pipe,
  Pool,
  Process,
  Queue,
  QueueEmptyError,
  QueueFullError,
  Semaphore,
  wait,
} from "../mod.ts";
import { sleep } from "./fixtures/targets.ts";
import { slow } from "./fixtures/pool_targets.ts";
import { TARGETS, testBoth } from "./_helpers.ts";

const POOL_TARGETS = new URL("./fixtures/pool_targets.ts", import.meta.url).href;

/** A signal already aborted with a reason of our own. */
function aborted(): { signal: AbortSignal; reason: Error } {
  const ctl = new AbortController();
  const reason = new Error("stop waiting");
  ctl.abort(reason);
  return { signal: ctl.signal, reason };
}

async function rejectsWithReason(p: () => Promise<unknown>, reason: unknown): Promise<void> {
  const err = await assertRejects(p);
  assertEquals(err, reason);
}

testBoth("Process.join(): a number, { timeout }, { signal }", async (startMethod) => {
  await using p = new Process({ target: sleep, args: [60_000], module: TARGETS, startMethod });
  await p.start();
  await p.join(10);
  await p.join({ timeout: 10 });
  assertEquals(p.exitCode, null, "a timed-out join resolves, as Python's");
  const { signal, reason } = aborted();
  await rejectsWithReason(() => p.join({ signal }), reason);
  await assertRejects(() => p.join({ timout: 5 } as never), TypeError, "did you mean 'timeout'?");
  p.terminate();
  await p.join();
});

Deno.test("Connection.poll() defaults to 0; wait() and poll() take { timeout, signal }", async () => {
  const [a, b] = Pipe();
  assertEquals(await a.poll(), false, "poll() answers at once, as Python's");
  assertEquals(await a.poll(5), false);
  assertEquals(await a.poll({ timeout: 5 }), false);
  const { signal, reason } = aborted();
  await rejectsWithReason(() => a.poll({ signal }), reason);
  await rejectsWithReason(() => wait([a], { signal }), reason);
  assertEquals(await wait([a], { timeout: 5 }), []);
  const later = b.send("x");
  assertEquals(await a.poll(null), true, "null waits for ever");
  await later;
  assertEquals(await wait([a], 5), [a]);
  a.close();
  b.close();
});

testBoth("AsyncResult.get() and wait(): a number, { timeout }, { signal }", async (startMethod) => {
  await using pool = new Pool({ processes: 1, module: POOL_TARGETS, startMethod });
  const r = pool.applyAsync(slow, [200]);
  const err = await assertRejects(() => r.get({ timeout: 5 }));
  assertInstanceOf(err, DOMException);
  assertEquals(err.name, "TimeoutError");
  const { signal, reason } = aborted();
  await rejectsWithReason(() => r.get({ signal }), reason);
  await rejectsWithReason(() => r.wait({ signal }), reason);
  await r.wait(5);
  assertEquals(await r.get(), 200, "the task goes on");
});

Deno.test("Queue: get(false), get(true, ms), put(x, false), a bare timeout", async () => {
  await using q = new Queue<number>(1);
  await assertRejects(() => q.get(false), QueueEmptyError);
  await assertRejects(() => q.get(true, 5), QueueEmptyError);
  await assertRejects(() => q.get(5), QueueEmptyError);
  await q.put(1);
  await assertRejects(() => q.put(2, false), QueueFullError);
  await assertRejects(() => q.put(2, true, 5), QueueFullError);
  const { signal, reason } = aborted();
  await rejectsWithReason(() => q.put(2, { signal }), reason);
  assertEquals(await q.get(true), 1);
  await rejectsWithReason(() => q.get({ signal }), reason);
});

Deno.test("JoinableQueue.join(): { timeout } rejects with TimeoutError, { signal } with its reason", async () => {
  await using q = new JoinableQueue<number>();
  await q.put(1);
  const err = await assertRejects(() => q.join({ timeout: 5 }));
  assertEquals((err as DOMException).name, "TimeoutError");
  await assertRejects(() => q.join(5));
  const { signal, reason } = aborted();
  await rejectsWithReason(() => q.join({ signal }), reason);
  await q.get();
  await q.taskDone();
  await q.join(1000);
});

Deno.test("acquire(false) and acquire(true, ms), as Python's; signal on every wait", async () => {
  await using lock = new Lock();
  assertEquals(await lock.acquire(false), true);
  assertEquals(await lock.acquire(false), false, "held: a non-blocking acquire answers at once");
  assertEquals(await lock.acquire(true, 5), false);
  assertEquals(await lock.acquire(5), false);
  const { signal, reason } = aborted();
  await rejectsWithReason(() => lock.acquire({ signal }), reason);
  await lock.release();
  await using sem = new Semaphore(0);
  assertEquals(await sem.acquire(false), false);
  assertEquals(await sem.acquire(true, 5), false);
  await rejectsWithReason(() => sem.acquire({ signal }), reason);
  await using event = new Event();
  assertEquals(await event.wait(5), false);
  await rejectsWithReason(() => event.wait({ signal }), reason);
  await using cond = new Condition();
  await cond.acquire();
  assertEquals(await cond.wait({ timeout: 5 }), false);
  await rejectsWithReason(() => cond.wait({ signal }), reason);
  await using barrier = new Barrier(2);
  await rejectsWithReason(() => barrier.wait({ signal }), reason);
  await assertRejects(
    () => event.wait({ timeot: 1 } as never),
    TypeError,
    "did you mean 'timeout'?",
  );
});
