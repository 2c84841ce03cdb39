import { assert, assertEquals, assertRejects, assertThrows } from "@std/assert";
import {
  Barrier,
  BoundedSemaphore,
  BrokenBarrierError,
  Condition,
  Event,
  Lock,
  Process,
  ProcessError,
  RLock,
  Semaphore,
  SharedArray,
  Value,
} from "../mod.ts";
import {
  acquireReleased,
  barrierOutcome,
  barrierPasses,
  conditionOver,
  conditionWaiter,
  holdForever,
  incrementMany,
  releaseOther,
  semaphoreUser,
  takeAndRelease,
  waitEvent,
} from "./fixtures/sync_targets.ts";
import { denoRun, outlasts, startChildren, tempDir, testBoth } from "./_helpers.ts";

const module = new URL("./fixtures/sync_targets.ts", import.meta.url).href;

/** Polls `fn` until it is true, for at most `ms`. */
async function until(fn: () => Promise<boolean>, ms = 10_000): Promise<void> {
  const end = performance.now() + ms;
  while (!await fn()) {
    if (performance.now() > end) throw new Error("Condition not reached in time");
    await new Promise((r) => setTimeout(r, 5));
  }
}

Deno.test("Lock: acquire, timed and non-blocking acquire, over-release", async () => {
  await using lock = new Lock();
  assertEquals(await lock.acquire(), true);
  assertEquals(await lock.acquire({ block: false }), false);
  const timed = lock.acquire({ timeout: 30 });
  assert(await outlasts(timed, 10), "a timed acquire waits its timeout");
  assertEquals(await timed, false);
  await lock.release();
  const err = await assertRejects(() => lock.release(), RangeError);
  assertEquals(err.message, "Cannot release lock: it is not acquired");
  await assertRejects(
    () => lock.acquire({ timeout: -1 }),
    RangeError,
    "Cannot acquire lock: 'timeout' must be a non-negative number, received -1",
  );
});

Deno.test("Lock: a waiter gets the lock when it is released; an abort rejects with the reason", async () => {
  await using lock = new Lock();
  await lock.acquire();
  const waiter = lock.acquire();
  await lock.release();
  assertEquals(await waiter, true);
  const ctl = new AbortController();
  const aborted = lock.acquire({ signal: ctl.signal });
  ctl.abort(new Error("stop"));
  await assertRejects(() => aborted, Error, "stop");
  await lock.release();
  assertEquals(await lock.acquire({ block: false }), true);
  await lock.release();
});

Deno.test("Lock.guard() and withLock() release on exit, even on a throw; guard times out", async () => {
  await using lock = new Lock();
  {
    await using _held = await lock.guard();
    assertEquals(await lock.acquire({ block: false }), false);
    const err = await assertRejects(() => lock.guard({ timeout: 5 }), DOMException);
    assertEquals(err.name, "TimeoutError");
  }
  await assertRejects(() => lock.withLock(() => Promise.reject(new Error("boom"))), Error, "boom");
  assertEquals(await lock.withLock(() => 7), 7);
  assertEquals(await lock.acquire({ block: false }), true);
});

Deno.test("RLock counts its acquisitions", async () => {
  await using lock = new RLock();
  for (let i = 0; i < 3; i++) assertEquals(await lock.acquire({ block: false }), true);
  for (let i = 0; i < 3; i++) await lock.release();
  await assertRejects(() => lock.release(), RangeError, "Cannot release lock: it is not acquired");
});

Deno.test("Semaphore counts and times out; BoundedSemaphore refuses over-release", async () => {
  await using sem = new Semaphore(3);
  for (let i = 0; i < 3; i++) assertEquals(await sem.acquire({ block: false }), true);
  assertEquals(await sem.getValue(), 0);
  assertEquals(await sem.acquire({ timeout: 20 }), false);
  await sem.release(2);
  assertEquals(await sem.getValue(), 2);
  await sem.release();
  await sem.release();
  assertEquals(await sem.getValue(), 4);
  await using bounded = new BoundedSemaphore(2);
  await bounded.acquire();
  await bounded.release();
  await assertRejects(
    () => bounded.release(),
    RangeError,
    "Cannot release semaphore: it was released too many times",
  );
  assertThrows(() => new Semaphore(-1), RangeError, "received -1");
});

Deno.test("Event: wait times out clear, returns true once set", async () => {
  await using ev = new Event();
  assertEquals(await ev.isSet(), false);
  assertEquals(await ev.wait(10), false);
  const waiter = ev.wait({ timeout: 5000 });
  await ev.set();
  assertEquals(await waiter, true);
  await ev.clear();
  assertEquals(await ev.wait({ timeout: 0 }), false);
});

Deno.test("Condition: wait needs the lock; wait times out holding it again; waitFor", async () => {
  await using cond = new Condition(new Lock());
  await assertRejects(
    () => cond.wait(5),
    ProcessError,
    "Cannot wait on condition: its lock is not acquired by this process",
  );
  await assertRejects(() => cond.notify(), ProcessError, "Cannot notify on condition");
  await cond.acquire();
  assertEquals(await cond.wait(10), false);
  // Held again after the timeout: a second acquire fails.
  assertEquals(await cond.acquire({ block: false }), false);
  assertEquals(await cond.waitFor(() => false, 20), false);
  let n = 0;
  assertEquals(await cond.waitFor(() => ++n >= 1, 20), true);
  await cond.release();
  let value = 0;
  const waiter = cond.withLock(() => cond.waitFor(() => value, 5000));
  await cond.withLock(async () => {
    value = 42;
    await cond.notifyAll();
  });
  assertEquals(await waiter, 42);
});

Deno.test("Condition: an aborted wait rejects without the lock", async () => {
  await using cond = new Condition(new Lock());
  await cond.acquire();
  const ctl = new AbortController();
  const waiting = cond.wait({ signal: ctl.signal });
  ctl.abort(new Error("stop"));
  await assertRejects(() => waiting, Error, "stop");
  assertEquals(await cond.acquire({ block: false }), true);
  await cond.release();
});

Deno.test("Barrier: one 0 index per pass, action once, timeout breaks it, abort and reset", async () => {
  let actions = 0;
  await using barrier = new Barrier(3, { action: () => actions++ });
  assertEquals(barrier.parties, 3);
  for (let pass = 0; pass < 3; pass++) {
    const idx = await Promise.all([barrier.wait(), barrier.wait(), barrier.wait()]);
    assertEquals(idx.filter((i) => i === 0).length, 1);
    assertEquals(idx.sort(), [0, 1, 2]);
  }
  assertEquals(actions, 3);
  const first = barrier.wait();
  await until(async () => await barrier.nWaiting() === 1);
  await assertRejects(() => barrier.wait(20), BrokenBarrierError);
  await assertRejects(() => first, BrokenBarrierError);
  assertEquals(await barrier.broken(), true);
  await assertRejects(() => barrier.wait(), BrokenBarrierError);
  await barrier.reset();
  assertEquals(await barrier.broken(), false);
  const waiting = barrier.wait();
  await until(async () => await barrier.nWaiting() === 1);
  await barrier.abort();
  await assertRejects(() => waiting, BrokenBarrierError);
  assertThrows(() => new Barrier(0), RangeError, "received 0");
});

Deno.test("Barrier: an action that throws breaks the barrier and rejects the last party", async () => {
  await using barrier = new Barrier(2, {
    action: () => {
      throw new TypeError("bad action");
    },
  });
  const first = barrier.wait();
  await assertRejects(() => barrier.wait(), TypeError, "bad action");
  await assertRejects(() => first, BrokenBarrierError);
});

testBoth(
  "a counter incremented 10,000 times by each of 4 children under the lock ends at 40,000",
  async (startMethod) => {
    await using counter = new Value("i", 0);
    await using children = await startChildren(4, incrementMany, [counter, 10_000, true], {
      module,
      startMethod,
    });
    assertEquals(await children.join(), [0, 0, 0, 0]);
    assertEquals(await counter.get(), 40_000);
  },
);

testBoth(
  "without the lock the same increments are racy: never more than 40,000",
  async (startMethod) => {
    await using counter = new Value("i", 0, { lock: false });
    await using children = await startChildren(4, incrementMany, [counter, 2_000, false], {
      module,
      startMethod,
    });
    await children.join();
    const total = await counter.get() as number;
    assert(total > 0 && total <= 8_000, `total ${total}`);
  },
);

testBoth(
  "a child killed while holding a lock: the lock is freed and the others finish",
  async (startMethod) => {
    await using lock = new Lock();
    await using held = new Event();
    await using holder = new Process({
      target: holdForever,
      args: [lock, held],
      module,
      startMethod,
    });
    await holder.start();
    assertEquals(await held.wait(10_000), true);
    assertEquals(await lock.acquire({ block: false }), false);
    await using other = new Process({ target: takeAndRelease, args: [lock], module, startMethod });
    await other.start();
    holder.kill();
    await holder.join();
    await other.join();
    assertEquals(other.exitCode, 0);
    assertEquals(await lock.acquire({ timeout: 5000 }), true);
  },
);

testBoth("an event set by the parent wakes a waiting child", async (startMethod) => {
  await using ev = new Event();
  await using done = new Event();
  await using p = new Process({ target: waitEvent, args: [ev, done], module, startMethod });
  await p.start();
  await ev.set();
  assertEquals(await done.wait(10_000), true);
  await p.join();
  assertEquals(p.exitCode, 0);
});

testBoth("a Semaphore(2) lets at most 2 of 4 children in at once", async (startMethod) => {
  await using sem = new Semaphore(2);
  await using inside = new Value("i", 0);
  await using peak = new Value("i", 0);
  await using children = await startChildren(4, semaphoreUser, [sem, inside, peak], {
    module,
    startMethod,
  });
  assertEquals(await children.join(), [0, 0, 0, 0]);
  assert(await peak.get() as number <= 2);
  assertEquals(await inside.get(), 0);
  assertEquals(await sem.getValue(), 2);
});

testBoth(
  "Condition.notify(1) wakes one child, notify(2) two more, across processes",
  async (startMethod) => {
    await using cond = new Condition();
    await using ready = new Value("i", 0);
    await using woken = new Value("i", 0);
    await using children = await startChildren(3, conditionWaiter, [cond, ready, woken], {
      module,
      startMethod,
    });
    await until(async () => await ready.get() === 3);
    // Each child counted itself ready holding the lock: once the parent has
    // the lock, all three are inside wait().
    await cond.withLock(() => cond.notify(1));
    await until(async () => await woken.get() === 1);
    await new Promise((r) => setTimeout(r, 200));
    assertEquals(await woken.get(), 1);
    await cond.withLock(() => cond.notify(2));
    assertEquals(await children.join(), [0, 0, 0]);
    assertEquals(await woken.get(), 3);
  },
);

testBoth("Condition.notifyAll() wakes every waiting child", async (startMethod) => {
  await using cond = new Condition();
  await using ready = new Value("i", 0);
  await using woken = new Value("i", 0);
  await using children = await startChildren(3, conditionWaiter, [cond, ready, woken], {
    module,
    startMethod,
  });
  await until(async () => await ready.get() === 3);
  await cond.withLock(() => cond.notifyAll());
  await children.join();
  assertEquals(await woken.get(), 3);
});

testBoth(
  "RLock: a child waits while the parent holds it, and cannot release it",
  async (startMethod) => {
    await using lock = new RLock();
    await lock.acquire();
    await using out = new SharedArray("i", 1);
    await using thief = new Process({
      target: releaseOther,
      args: [lock, out],
      module,
      startMethod,
    });
    await thief.start();
    await thief.join();
    assertEquals(await out.get(0), 1);
    await using p = new Process({ target: takeAndRelease, args: [lock], module, startMethod });
    await p.start();
    await new Promise((r) => setTimeout(r, 100));
    assert(p.isAlive());
    await lock.release();
    await p.join();
    assertEquals(p.exitCode, 0);
  },
);

testBoth("1,000 passes of a 5-party barrier, one 0 index per pass", async (startMethod) => {
  await using barrier = new Barrier(5);
  await using zeros = new Value("i", 0);
  await using children = await startChildren(4, barrierPasses, [barrier, 1000, zeros], {
    module,
    startMethod,
  });
  let mine = 0;
  for (let i = 0; i < 1000; i++) if (await barrier.wait(20_000) === 0) mine++;
  assertEquals(await children.join(), [0, 0, 0, 0]);
  assertEquals(await zeros.get() as number + mine, 1000);
});

testBoth(
  "a barrier's action runs once per pass, in the creator, whoever arrives last",
  async (startMethod) => {
    let actions = 0;
    await using barrier = new Barrier(3, { action: () => actions++ });
    await using zeros = new Value("i", 0);
    await using children = await startChildren(2, barrierPasses, [barrier, 20, zeros], {
      module,
      startMethod,
    });
    for (let i = 0; i < 20; i++) await barrier.wait(20_000);
    await children.join();
    assertEquals(actions, 20);
  },
);

testBoth("aborting a barrier fails the children waiting on it", async (startMethod) => {
  await using barrier = new Barrier(3);
  await using out = new SharedArray("i", 2);
  await using children = await startChildren(2, barrierOutcome, (slot) => [barrier, out, slot], {
    module,
    startMethod,
  });
  await until(async () => await barrier.nWaiting() === 2);
  await barrier.abort();
  await children.join();
  assertEquals(await out.slice(), [2, 2]);
});

testBoth(
  "a program that exits holding a shared lock's hub leaves no socket directory",
  async (startMethod) => {
    await using tmp = await tempDir();
    const script = new URL("./fixtures/shared_lock_main.ts", import.meta.url).pathname;
    const out = await denoRun([script, startMethod], { env: { TMPDIR: tmp.path } });
    assertEquals(out.stdout.trim(), "exit 0", out.stderr);
    const left = [];
    for await (const e of Deno.readDir(tmp.path)) left.push(e.name);
    assertEquals(left, []);
  },
);

testBoth(
  "a Condition over a lock received from another process: shared memory or a clear TypeError",
  async (startMethod) => {
    await using lock = new Lock();
    await using out = new SharedArray("i", 1);
    await using p = new Process({ target: conditionOver, args: [lock, out], module, startMethod });
    await p.start();
    await p.join();
    // A worker child shares the lock's memory; a subprocess child cannot.
    assertEquals(await out.get(0), startMethod === "worker" ? 1 : 2);
  },
);

testBoth(
  "a lock its creator disposed of: a subprocess child gets a clear ProcessError",
  async (startMethod) => {
    const lock = new Lock();
    await using go = new Event();
    await using out = new SharedArray("i", 1);
    await using p = new Process({
      target: acquireReleased,
      args: [lock, go, out],
      module,
      startMethod,
    });
    await p.start();
    await lock[Symbol.asyncDispose]();
    await go.set();
    await p.join();
    // A worker child still holds the memory itself, so the lock still works there.
    assertEquals(await out.get(0), startMethod === "worker" ? 2 : 1);
  },
);
