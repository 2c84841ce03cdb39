// The Pool behaviour tests that make sense remotely, against a real
// nats-server: each test starts its own (see _cluster.ts) and checks, at
// the end, that no client connection is left on it.
import {
  assert,
  assertEquals,
  assertGreater,
  assertInstanceOf,
  assertRejects,
  assertStringIncludes,
  assertThrows,
} from "@std/assert";
import { Cluster, type ClusterPool, type PoolLike, TaskFailedError } from "../cluster.ts";
import type { Pool } from "../pool.ts";
import { ProcessError } from "../context.ts";
import { Queue } from "../queue.ts";
import { add, fails, same, slow, square, squareUnless3 } from "./fixtures/cluster_targets.ts";
import { asHanded, handThenChange } from "./fixtures/changing.ts";
import { setup, TARGETS as module, within } from "./_cluster.ts";
import { newKey, startNats } from "./_nats.ts";
import { connect, jetstreamManager } from "../_internal/cluster/deps.ts";
import { formatStatus } from "../_internal/cluster/status.ts";
import { denoRun, fixturePath } from "./_helpers.ts";

// Type level: the local pool and the cluster pool implement one interface.
// (Checked by `deno check`; the test below only makes it a test.)
function conforms(local: Pool, remote: ClusterPool): PoolLike[] {
  return [local, remote];
}

Deno.test("PoolLike: the local Pool and the cluster pool both implement it", () => {
  assertEquals(typeof conforms, "function");
});

Deno.test("Cluster.pool().map() keeps input order", async () => {
  await using env = await setup();
  await using pool = env.cluster.pool({ module });
  const xs = Array.from({ length: 300 }, (_, i) => i);
  assertEquals(await pool.map(square, xs), xs.map((x) => x * x));
  assertEquals(await pool.map(square, xs, { chunksize: 1 }), xs.map((x) => x * x));
  assertEquals(await pool.map(square, xs, { chunksize: 7 }), xs.map((x) => x * x));
  assertEquals(await pool.starmap(add, xs.map((x) => [x, 1])), xs.map((x) => x + 1));
  assertEquals(await pool.map(square, []), []);
  assertEquals(await pool.apply(add, [2, 3]), 5);
  assertEquals(await pool.mapAsync(square, [3]).get(), [9]);
});

Deno.test("Cluster.pool() and queue(): a value changed after an unawaited call goes as it was then", async () => {
  await using env = await setup();
  await using pool = env.cluster.pool({ module });
  await using q = env.cluster.queue<unknown>("changing");
  const applied: unknown[] = [], mapped: unknown[] = [];
  await handThenChange((v, i) => pool.apply(same, [v]).then((r) => (applied[i] = r)));
  await handThenChange((v, i) => pool.map(same, [v]).then((r) => (mapped[i] = r[0])));
  await handThenChange((v) => q.put(v));
  assertEquals(applied, asHanded());
  assertEquals(mapped, asHanded());
  for (const v of asHanded()) assertEquals(await q.get(), v);
});

Deno.test("Cluster.pool().imap() yields in order, imapUnordered() yields every result", async () => {
  await using env = await setup();
  await using pool = env.cluster.pool({ module });
  const inOrder: unknown[] = [];
  for await (const v of pool.imap(slow, [30, 1, 20, 2, 10])) inOrder.push(v);
  assertEquals(inOrder, [30, 1, 20, 2, 10]);
  async function* items() {
    for (let i = 0; i < 50; i++) yield i;
  }
  const any: number[] = [];
  for await (const v of pool.imapUnordered(square, items(), { chunksize: 3 })) any.push(v);
  assertEquals(any.sort((a, b) => a - b), Array.from({ length: 50 }, (_, i) => i * i));
});

Deno.test("Cluster.pool().imap(): next() rejects for a failed item, then goes on; onProgress", async () => {
  await using env = await setup();
  await using pool = env.cluster.pool({ module });
  const it = pool.imap(squareUnless3, [1, 2, 3, 4, 5]);
  const out: (number | string)[] = [];
  while (true) {
    try {
      const r = await it.next();
      if (r.done) break;
      out.push(r.value);
    } catch (err) {
      out.push((err as Error).message);
    }
  }
  assertEquals(out, [1, 4, "3 is refused", 16, 25]);
  // onProgress, as on a local pool: once per settled chunk, the last with done === total.
  const calls: [number, number | undefined][] = [];
  const onProgress = (done: number, total: number | undefined) => void calls.push([done, total]);
  assertEquals(await pool.map(square, [1, 2, 3, 4], { chunksize: 2, onProgress }), [1, 4, 9, 16]);
  assertEquals(calls.length, 2);
  assertEquals(calls.at(-1), [4, 4]);
  calls.length = 0;
  for await (const _ of pool.imap(square, [1, 2, 3], { onProgress })) { /* drain */ }
  assertEquals(calls.at(-1), [3, 3]);
});

Deno.test("Cluster.pool(): a task that throws fails with the remote stack, and is not retried", async () => {
  await using env = await setup();
  await using pool = env.cluster.pool({ module });
  const result = pool.applyAsync(fails, ["boom"]);
  const err = await assertRejects(() => result.get(), RangeError, "boom");
  assert(err.stack?.includes("cluster_targets.ts"), "the remote stack is kept");
  const site = err.stack!.slice(err.stack!.indexOf("\nSubmitted at:\n"));
  assert(site.includes("cluster_pool_test.ts"), `the call site follows: ${err.stack}`);
  assertEquals(result.attempts.length, 1);
  assertEquals(result.attempts[0].outcome, "completed");
  assertEquals(env.agent!.record().retried, 0);
  await assertRejects(() => pool.map(fails, ["a", "b"]), RangeError);
});

Deno.test("Cluster.pool(): callbacks are called once, AsyncResult shows its state and attempts", async () => {
  await using env = await setup();
  await using pool = env.cluster.pool({ module });
  const got: unknown[] = [];
  const ok = pool.applyAsync(square, [3], { callback: (v) => got.push(v) });
  const bad = pool.applyAsync(fails, ["no"], {
    errorCallback: (e) => got.push((e as Error).message),
  });
  assertThrows(() => bad.successful(), Error, "not ready");
  assertEquals(await ok, 9);
  await bad.wait();
  assertEquals([ok.successful(), bad.successful()], [true, false]);
  assertEquals(got.sort(), [9, "no"].sort());
  const [attempt] = ok.attempts;
  assertEquals([attempt.attempt, attempt.host, attempt.agent], [
    1,
    env.cluster.host,
    env.agent!.id,
  ]);
  const mapped = pool.mapAsync(square, [1, 2, 3], { chunksize: 1 });
  assertEquals(await mapped, [1, 4, 9]);
  assertEquals(mapped.attempts.length, 3);
});

Deno.test("Cluster.pool(): an abort rejects with its reason and deletes the tasks not yet fetched", async () => {
  await using env = await setup({ agent: false });
  await using pool = env.cluster.pool({ module });
  const ac = new AbortController();
  const p = pool.map(square, [1, 2, 3, 4], { signal: ac.signal, chunksize: 1 });
  await within(15_000, "publish", async () => {
    while ((await env.cluster.status()).streams[0].pending === 0) await slow(10);
  });
  ac.abort(new Error("enough"));
  await assertRejects(() => p, Error, "enough");
  await within(15_000, "delete", async () => {
    while ((await env.cluster.status()).streams[0].pending > 0) await slow(10);
  });
  await assertRejects(() => pool.apply(square, [1], { signal: ac.signal }), Error, "enough");
});

Deno.test("Cluster.pool().terminate() fails what is not done and deletes it from the stream", async () => {
  await using env = await setup({ agent: false });
  const pool = env.cluster.pool({ module });
  const p = pool.map(square, Array.from({ length: 40 }, (_, i) => i), { chunksize: 1 });
  await within(15_000, "publish", async () => {
    while ((await env.cluster.status()).streams[0].pending === 0) await slow(10);
  });
  pool.terminate();
  await assertRejects(() => p, ProcessError, "terminated");
  await pool.join();
  await within(15_000, "delete", async () => {
    while ((await env.cluster.status()).streams[0].pending > 0) await slow(10);
  });
  await assertRejects(() => pool.apply(square, [1]), ProcessError, "terminated");
});

Deno.test("Cluster.pool(): a local pool's options, and unknown ones, are refused with a TypeError", async () => {
  await using env = await setup({ agent: false });
  for (const key of ["processes", "initializer", "maxTasksPerChild", "startMethod", "clone"]) {
    assertThrows(() => env.cluster.pool({ [key]: 1 } as never), TypeError, `'${key}'`);
  }
  // A misspelt option is refused too, naming the one it is close to.
  assertThrows(() => env.cluster.pool({ modul: module } as never), TypeError, "'module'");
  await using pool = env.cluster.pool({ module });
  await assertRejects(() => pool.apply((() => 1) as () => number, []), TypeError, "named function");
  await using local = new Queue<number>();
  await assertRejects(
    () => pool.apply(add, [local as never, 1]),
    TypeError,
    "a handle of this machine",
  );
  await assertRejects(() => pool.map(square, [1], { chunksize: 0 }), RangeError, "chunksize");
});

Deno.test("Cluster.status() shows pending and in-flight work during a map, none after", async () => {
  await using env = await setup({ agent: false });
  await using pool = env.cluster.pool({ module });
  const xs = Array.from({ length: 24 }, (_, i) => i);
  const p = pool.map(slow, xs.map(() => 50), { chunksize: 1 });
  await within(15_000, "publish", async () => {
    while ((await env.cluster.status()).streams[0].pending === 0) await slow(10);
  });
  const before = await env.cluster.status();
  assertEquals(before.agents.length, 0);
  assertGreater(before.streams[0].pending, 0);
  const agent = await env.cluster.serve({ processes: 2, prefetch: 1, startMethod: "worker" });
  const during = await within(15_000, "in flight", async () => {
    while (true) {
      const s = await env.cluster.status();
      if (s.streams[0].inFlight > 0) return s;
      await slow(5);
    }
  });
  assertEquals(during.agents.map((a) => [a.id, a.slots, a.alive]), [[agent.id, 2, true]]);
  assertEquals(await p, xs.map(() => 50));
  // The last acks may still be on their way: wait for them.
  const after = await within(15_000, "acks", async () => {
    while (true) {
      const s = await env.cluster.status();
      if (s.streams[0].inFlight === 0) return s;
      await slow(5);
    }
  });
  assertEquals([after.streams[0].pending, after.streams[0].inFlight], [0, 0]);
  assertEquals(after.streams[0].deadLettered, 0);
  assertEquals(agent.record().done, xs.length);
  assertInstanceOf(after.agents[0].lastHeartbeat, Date);
});

Deno.test("Cluster.pool(): results are deleted from their bucket once read", async () => {
  await using env = await setup();
  await using pool = env.cluster.pool({ module });
  assertEquals(
    await pool.map(square, Array.from({ length: 50 }, (_, i) => i)).then((r) => r.length),
    50,
  );
  const nc = await connect({ servers: env.nats.url });
  try {
    const jsm = await jetstreamManager(nc);
    await within(15_000, "the deletions", async () => {
      while ((await jsm.streams.info(`KV_MP_${env.name}_RESULTS`)).state.messages > 0) {
        await slow(10);
      }
    });
  } finally {
    await nc.close();
  }
});

Deno.test("cluster/worker status: the figures as tables, streams and agents", async () => {
  await using env = await setup();
  await using q = env.cluster.queue<number>("numbers");
  await q.put(1);
  const table = formatStatus(await env.cluster.status());
  const lines = table.split("\n");
  assert(lines[0].startsWith(`cluster ${env.name}: lease 30000 ms, 3 attempts`), lines[0]);
  assert(lines.some((l) => /^queue numbers\s+1\s+0\s+0\s+0$/.test(l)), table);
  assert(lines.some((l) => l.startsWith(env.agent!.id) && l.includes(env.cluster.host)), table);
});

Deno.test("Cluster.connect() passes user and password through to the server", async () => {
  await using nats = await startNats({ user: "mp", pass: "s3cret" });
  // The refused attempt runs in a program of its own (see the fixture).
  const wrong = await denoRun([fixturePath("cluster_connect_main.ts"), nats.url, "mp", "wrong"]);
  assertStringIncludes(wrong.stdout, "refused: Authorization Violation");
  await using env = await setup({ server: nats, connect: { user: "mp", pass: "s3cret" } });
  await using pool = env.cluster.pool({ module });
  assertEquals(await pool.map(square, [1, 2, 3]), [1, 4, 9]);
});

Deno.test("Cluster.connect() refuses a bad name, a short authkey and bad settings", async () => {
  const base = { servers: "nats://127.0.0.1:1", name: "ok", authkey: newKey() };
  await assertRejects(() => Cluster.connect({ ...base, name: "a.b" }), TypeError, "name");
  await assertRejects(() => Cluster.connect({ ...base, authkey: "abcd" }), TypeError, "authkey");
  await assertRejects(() => Cluster.connect({ ...base, ackWait: 0 }), RangeError, "ackWait");
  await assertRejects(() => Cluster.connect({ ...base, maxAttempts: 1.5 }), RangeError);
});

Deno.test("Cluster: pools of a closed connection are terminated; TaskFailedError is exported", async () => {
  await using env = await setup({ agent: false });
  const pool = env.cluster.pool({ module });
  const p = pool.apply(square, [2]);
  await env.cluster.close();
  await assertRejects(() => p, ProcessError, "terminated");
  assertThrows(() => env.cluster.pool(), Error, "closed");
  assertEquals(new TaskFailedError("x.1.0", []).name, "TaskFailedError");
});
