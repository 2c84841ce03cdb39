// The pool's scheduler parts on their own, without workers: the task
// queue (issue #15 item 5), the per-signal abort bookkeeping (item 8), the
// lazy imap window (items 2 and 4) and map's window (item 10).
import { assert, assertEquals, assertRejects } from "@std/assert";
import { imapChunks } from "../_internal/pool/imap.ts";
import { mapChunks } from "../_internal/pool/map.ts";
import { TaskQueue } from "../_internal/pool/task_queue.ts";
import { ABORT_SLICE, inSlices, SignalWatch } from "../_internal/pool/signals.ts";
import { HeldTasks, learn, newSlot, newStats, type Task } from "../_internal/pool/task.ts";
import { Scheduler } from "../_internal/pool/scheduler.ts";
import type { ToWorker } from "../_internal/pool/protocol.ts";

function task(id: number) {
  return { id, queued: false };
}

Deno.test("TaskQueue: first in, first out; given-back tasks first, oldest first", () => {
  const q = new TaskQueue<ReturnType<typeof task>>();
  const ts = Array.from({ length: 10 }, (_, i) => task(i));
  for (const t of ts.slice(3)) q.push(t);
  q.giveBack([ts[2], ts[0]]);
  q.giveBack([ts[1]]);
  assertEquals(q.size, 10);
  assertEquals(q.peek(), ts[0]);
  q.remove(ts[1]);
  q.remove(ts[5]);
  q.remove(ts[5]); // twice is once
  assertEquals(q.size, 8);
  assertEquals(q.drain().map((t) => t.id), [0, 2, 3, 4, 6, 7, 8, 9]);
  assertEquals([q.size, q.shift(), q.peek()], [0, undefined, undefined]);
  assert(ts.every((t) => !t.queued), "nothing is left marked queued");
});

Deno.test("TaskQueue: 200,000 tasks pushed, some removed, come out in order", () => {
  const q = new TaskQueue<ReturnType<typeof task>>();
  const ts = Array.from({ length: 200_000 }, (_, i) => task(i));
  for (const t of ts) q.push(t);
  for (let i = 0; i < ts.length; i += 3) q.remove(ts[i]);
  let last = -1, n = 0;
  for (let t = q.shift(); t; t = q.shift(), n++) {
    assert(t.id > last && t.id % 3 !== 0, `task ${t.id} after ${last}`);
    last = t.id;
  }
  assertEquals(n, ts.length - Math.ceil(ts.length / 3));
});

Deno.test("SignalWatch: one listener per signal, gone with its last task", () => {
  const aborted: [number[], unknown][] = [];
  const watch = new SignalWatch<number>((tasks, reason) => aborted.push([tasks, reason]));
  const a = new AbortController(), b = new AbortController();
  let listeners = 0;
  const add = a.signal.addEventListener.bind(a.signal);
  a.signal.addEventListener = ((...args: Parameters<typeof add>) => {
    listeners++;
    add(...args);
  }) as typeof add;
  for (let i = 0; i < 100; i++) watch.add(a.signal, i);
  watch.add(b.signal, 1000);
  assertEquals(listeners, 1);
  watch.delete(a.signal, 7);
  a.abort("stop");
  a.abort("again");
  assertEquals(aborted.length, 1);
  assertEquals(aborted[0][0].length, 99);
  assertEquals(aborted[0][1], "stop");
  watch.delete(b.signal, 1000);
  b.abort("late");
  assertEquals(aborted.length, 1, "a signal with no task left is not watched");
});

Deno.test("inSlices(): a timer runs between two slices", async () => {
  const order: string[] = [];
  setTimeout(() => order.push("timer"), 0);
  for (const until = performance.now() + 5; performance.now() < until;) { /* the timer is due */ }
  const items = Array.from({ length: 3 * ABORT_SLICE }, (_, i) => i);
  await inSlices(items, (i) => {
    if (i % ABORT_SLICE === 0) order.push(`slice ${i / ABORT_SLICE}`);
  });
  assertEquals(order.slice(0, 2), ["slice 0", "timer"]);
  assertEquals(order.length, 4);
});

/** A promise that counts the handlers attached to it. */
class Counted<T> extends Promise<T> {
  thens = 0;
  static override get [Symbol.species](): PromiseConstructor {
    return Promise;
  }
  override then<A = T, B = never>(
    ok?: ((value: T) => A | PromiseLike<A>) | null,
    fail?: ((reason: unknown) => B | PromiseLike<B>) | null,
  ): Promise<A | B> {
    this.thens++;
    return super.then(ok, fail);
  }
}

/** A submit whose tasks settle when the test says, each a {@link Counted}. */
function manual() {
  const tasks: { calls: unknown[]; p: Counted<unknown[]>; settle(ok: boolean): void }[] = [];
  const submit = (calls: unknown[]): Promise<unknown[]> => {
    let resolve!: (v: unknown[]) => void, reject!: (e: unknown) => void;
    const p = new Counted<unknown[]>((a, b) => (resolve = a, reject = b));
    tasks.push({
      calls,
      p,
      settle: (ok) => ok ? resolve(calls) : reject(new Error(`task ${calls[0]}`)),
    });
    return p;
  };
  return { tasks, submit };
}

Deno.test("imapChunks(): unordered, each result costs O(1), whatever the window", async () => {
  const { tasks, submit } = manual();
  const n = 400;
  const out: number[] = [];
  const it = imapChunks<number, number>(
    submit,
    Array.from({ length: n }, (_, i) => i),
    1,
    1000,
    false,
  );
  const consumer = (async () => {
    for await (const x of it) out.push(x);
  })();
  while (tasks.length < n) await new Promise((r) => setTimeout(r, 0));
  // Settled last first: every result is yielded as it comes.
  for (let i = n - 1; i >= 0; i--) {
    tasks[i].settle(true);
    await new Promise((r) => setTimeout(r, 0));
  }
  await consumer;
  assertEquals(out, Array.from({ length: n }, (_, i) => n - 1 - i));
  const most = Math.max(...tasks.map((t) => t.p.thens));
  assert(most <= 2, `a task's promise got ${most} handlers`);
});

Deno.test("imapChunks(): ordered, a failed task rejects one next(), the next call goes on", async () => {
  const { tasks, submit } = manual();
  const it = imapChunks<number, number>(submit, [0, 1, 2, 3], 1, 10, true);
  while (tasks.length < 4) await new Promise((r) => setTimeout(r, 0));
  tasks[1].settle(false);
  tasks[0].settle(true);
  assertEquals(await it.next(), { value: 0, done: false });
  await assertRejects(() => it.next(), Error, "task 1");
  tasks[2].settle(true);
  tasks[3].settle(true);
  assertEquals(await it.next(), { value: 2, done: false });
  assertEquals(await it.next(), { value: 3, done: false });
  assertEquals((await it.next()).done, true);
});

Deno.test("mapChunks(): results in input order, never more than the window in flight", async () => {
  let inFlight = 0, most = 0, submitted = 0;
  const out = await mapChunks(1000, 3, 8, async (start, end) => {
    submitted++;
    most = Math.max(most, ++inFlight);
    await new Promise((r) => setTimeout(r, (start * 7) % 3));
    inFlight--;
    return Array.from({ length: end - start }, (_, i) => start + i);
  });
  assertEquals(out, Array.from({ length: 1000 }, (_, i) => i));
  assertEquals(submitted, Math.ceil(1000 / 3));
  assertEquals(most, 8);
  assertEquals(await mapChunks(0, 1, 1, () => Promise.reject(new Error("never"))), []);
});

Deno.test("mapChunks(): the first error rejects, and no chunk is submitted after it", async () => {
  const starts: number[] = [];
  const settle: (() => void)[] = [];
  const p = mapChunks(100, 10, 2, (start) => {
    starts.push(start);
    return new Promise((resolve, reject) => {
      settle.push(() => start === 10 ? reject(new Error("chunk 10")) : resolve([]));
    });
  });
  assertEquals(starts, [0, 10]);
  settle[1]();
  await assertRejects(() => p, Error, "chunk 10");
  settle[0]();
  await new Promise((r) => setTimeout(r, 0));
  assertEquals(starts, [0, 10]);
});

Deno.test("learn(): perCall rises at once and falls gradually; low the other way", () => {
  const s = newStats();
  learn(s, 1);
  assertEquals([s.perCall, s.low], [1, 1]);
  // A call 20x slower: nothing may queue behind the next one as if it were quick.
  learn(s, 20);
  assertEquals(s.perCall, 20);
  assert(s.low > 1 && s.low < 20, `low rises gradually: ${s.low}`);
  // Quicker again: perCall comes down gradually, low at once.
  learn(s, 2);
  assert(s.perCall > 2 && s.perCall < 20, `perCall falls gradually: ${s.perCall}`);
  assertEquals(s.low, 2);
});

/** A task of one call of the function measured by `stats`, as the engine makes them. */
function schedTask(id: number, stats: ReturnType<typeof newStats>): Task {
  return {
    id,
    queued: false,
    message: {
      id,
      fn: { kind: "export", module: "m", exportName: "f", fingerprint: "" },
      calls: [[id]],
    } as unknown as Task["message"],
    stats,
    est: NaN,
    done: false,
    slot: undefined,
    reclaiming: false,
    exclusive: false,
    resolve() {},
    reject() {},
  };
}

/** Two scheduler slots recording what each is sent. */
function recordingSlots(): {
  slots: ReturnType<typeof newSlot>[];
  sent: [number, string, number][];
} {
  const sent: [number, string, number][] = [];
  const slot = (n: number) =>
    newSlot({
      send(v: ToWorker) {
        if ("tasks" in v) sent.push([n, "tasks", v.tasks.length]);
        else if ("reclaim" in v) sent.push([n, "reclaim", v.reclaim.length]);
        return Promise.resolve();
      },
    });
  return { slots: [slot(0), slot(1)], sent };
}

Deno.test("Scheduler: tasks sent in a batch as quick, found slow, are taken back for an idle worker at once", () => {
  const stats = newStats();
  learn(stats, 0.001); // warmed up on tiny arguments
  const { slots: [a, b], sent } = recordingSlots();
  const sched = new Scheduler(0, () => {});
  try {
    for (let id = 1; id <= 8; id++) sched.queue.push(schedTask(id, stats));
    sched.dispatch([a, b]);
    // Expected to take microseconds: one worker gets them all.
    assertEquals(sent, [[0, "tasks", 8]]);
    sent.length = 0;
    // The first took 50 ms: what it holds would keep the idle one waiting.
    sched.settle(a, { results: [{ id: 1, value: [0] }], t: 50 });
    sched.dispatch([a, b]);
    // All but the one it runs are asked back (not only once it is overdue).
    assertEquals(sent, [[0, "reclaim", 6]]);
  } finally {
    sched.stop();
  }
});

Deno.test("Scheduler: a function measured quick, then slow, is no longer sent to one worker in a batch", () => {
  const stats = newStats();
  learn(stats, 0.001); // warmed up on tiny arguments
  const sent: [number, number][] = [];
  const slot = (n: number) =>
    newSlot({
      send(v: ToWorker) {
        if ("tasks" in v) sent.push([n, v.tasks.length]);
        return Promise.resolve();
      },
    });
  const [a, b] = [slot(0), slot(1)];
  const sched = new Scheduler(0, () => {});
  try {
    sched.queue.push(schedTask(1, stats));
    sched.dispatch([a, b]);
    assertEquals(sent, [[0, 1]]);
    // Its first call took 50 ms: the next ones are long too.
    sched.settle(a, { results: [{ id: 1, value: [0] }], t: 50 });
    for (let id = 2; id <= 9; id++) sched.queue.push(schedTask(id, stats));
    sent.length = 0;
    sched.dispatch([a, b]);
    // One each (a long task's successor goes only when it is about to end).
    assertEquals(sent, [[0, 1], [1, 1]]);
    assertEquals(sched.queue.size, 6);
  } finally {
    sched.stop();
  }
});

Deno.test("Scheduler: a long task's successor goes with it while the rest of the queue keeps the other workers busy", () => {
  const stats = newStats();
  learn(stats, 20); // 20 ms a call
  const { slots: [a, b], sent } = recordingSlots();
  const sched = new Scheduler(0, () => {});
  try {
    for (let id = 1; id <= 10; id++) sched.queue.push(schedTask(id, stats));
    sched.dispatch([a, b]);
    // Each worker gets the task it runs and the next: neither waits for its
    // successor, nor is this process woken to send it.
    assertEquals(sent, [[0, "tasks", 2], [1, "tasks", 2]]);
    assertEquals(sched.queue.size, 6);
    // A result: one more, behind the one that worker runs now.
    sent.length = 0;
    sched.settle(a, { results: [{ id: 1, value: [0] }], t: 20 });
    sched.dispatch([a, b]);
    assertEquals(sent, [[0, "tasks", 1]]);
    assertEquals(sched.queue.size, 5);
  } finally {
    sched.stop();
  }
  // Two workers started, two starting, four tasks: one each; the two left
  // are for those starting, not behind the busy ones.
  assertEquals(dispatchFresh(stats, 4, 2), [[[0, "tasks", 1], [1, "tasks", 1]], 2]);
  // Two tasks, two idle workers: one each, none waiting behind the other.
  assertEquals(dispatchFresh(stats, 2, 0), [[[0, "tasks", 1], [1, "tasks", 1]], 0]);
});

/**
 * Queues `n` tasks of `stats` on a fresh scheduler and dispatches them once
 * to two idle recorded slots, `starting` more workers starting.
 *
 * @returns What was sent, and how many tasks stayed queued.
 */
function dispatchFresh(
  stats: ReturnType<typeof newStats>,
  n: number,
  starting: number,
): [[number, string, number][], number] {
  const { slots, sent } = recordingSlots();
  const sched = new Scheduler(0, () => {});
  try {
    for (let id = 1; id <= n; id++) sched.queue.push(schedTask(id, stats));
    sched.dispatch(slots, starting);
    return [sent, sched.queue.size];
  } finally {
    sched.stop();
  }
}

Deno.test("HeldTasks: in the order added; found by id; removed from the head or the middle", () => {
  const held = new HeldTasks<{ id: number }>();
  const ts = Array.from({ length: 3000 }, (_, i) => ({ id: i }));
  for (const t of ts) held.add(t);
  held.delete(ts[1500]); // from the middle
  held.delete({ id: 1 }); // not held: nothing happens
  for (const t of ts.slice(0, 1200)) held.delete(t); // from the head, as results come
  assertEquals(held.size, 1799);
  assertEquals(held.get(1501), ts[1501]);
  assertEquals([held.get(1500), held.get(7)], [undefined, undefined]);
  assertEquals([...held].map((t) => t.id), [...ts.keys()].slice(1200).filter((i) => i !== 1500));
  for (const t of ts) held.delete(t);
  assertEquals([held.size, [...held]], [0, []]);
  held.add(ts[9]);
  assertEquals([...held], [ts[9]]);
});

Deno.test("Scheduler: a worker's tasks come back in the order it runs them, the one it was running first", () => {
  const stats = newStats();
  learn(stats, 0.001);
  const { slots: [a, b] } = recordingSlots();
  const sched = new Scheduler(0, () => {});
  try {
    for (let id = 1; id <= 10; id++) sched.queue.push(schedTask(id, stats));
    sched.dispatch([a, b]);
    // It gives 3 and 4 back unstarted (asked back), and is sent them again,
    // after the others: it runs 5 to 10, then 3 and 4.
    sched.returned(a, [3, 4]);
    sched.dispatch([a, b]);
    sched.settle(a, { results: [{ id: 1, value: [1] }, { id: 2, value: [2] }], t: 0.002 });
    // It dies: 5 was running (it fails), the rest never started (queued again).
    const held = sched.release(a);
    assertEquals(held.map((t) => t.id), [5, 6, 7, 8, 9, 10, 3, 4]);
    assertEquals(a.held.size, 0);
  } finally {
    sched.stop();
  }
});

Deno.test("mapChunks(): a submit that tells settle gets results in order; a refusal told at once rejects", async () => {
  const told: (() => void)[] = [];
  const starts: number[] = [];
  const p = mapChunks(6, 2, 2, (start, end, settle) => {
    starts.push(start);
    told.push(() => settle(true, [start, end - 1]));
  });
  assertEquals(starts, [0, 2]);
  // Out of order: the second chunk settles first, and the next goes out at once.
  told[1]();
  assertEquals(starts, [0, 2, 4]);
  told[0]();
  told[2]();
  assertEquals(await p, [0, 1, 2, 3, 4, 5]);
  const refused = mapChunks(4, 1, 2, (_start, _end, settle) => settle(false, new Error("closed")));
  await assertRejects(() => refused, Error, "closed");
});
