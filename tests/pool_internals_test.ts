// The pool's scheduler parts on their own, without workers: the task
// queue (issue #15 item 5), the per-signal abort bookkeeping (item 8), the
// lazy imap window (items 2 and 4) and map's window (item 10).
import { assert, assertEquals, assertRejects } from "@std/assert";
import { imapChunks } from "../_internal/pool/imap.ts";
import { mapChunks } from "../_internal/pool/map.ts";
import { TaskQueue } from "../_internal/pool/task_queue.ts";
import { ABORT_SLICE, inSlices, SignalWatch } from "../_internal/pool/signals.ts";

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
