// Worker agents that die, and a broker that dies: at-least-once delivery
// with every result exactly once, retries, the poison task, a restarted
// nats-server. Agents run as their own `deno run` programs (the worker
// command) where they are to be killed.
import { assert, assertEquals, assertInstanceOf, assertRejects } from "@std/assert";
import { TaskFailedError } from "../cluster.ts";
import { dieOnce, echoLater, pid, poison, slow, square } from "./fixtures/cluster_targets.ts";
import type { ClusterPool } from "../cluster.ts";
import { type AgentProgram, setup, startAgent, TARGETS as module, within } from "./_cluster.ts";
import { pidAlive, tempDir } from "./_helpers.ts";

/** Soak trials: MP_SOAK_TRIALS overrides (a longer soak by hand). */
const TRIALS = Number(Deno.env.get("MP_SOAK_TRIALS") ?? 20);

/**
 * Maps over `n` items with imapUnordered (a result given twice would show),
 * SIGKILLs `victim` once `killAfter` results have come, and checks that
 * every result came exactly once.
 */
async function mapKillingOne(
  pool: ClusterPool,
  victim: AgentProgram,
  n: number,
  killAfter: number,
): Promise<void> {
  const got: number[] = [];
  await within(30_000, "map", async () => {
    const inputs = Array.from({ length: n }, (_, i) => i);
    for await (const v of pool.imapUnordered(echoLater, inputs, { chunksize: 1 })) {
      got.push(v);
      if (got.length === killAfter) await victim.kill("SIGKILL");
    }
  });
  assertEquals(got.sort((a, b) => a - b), Array.from({ length: n }, (_, i) => i));
}

Deno.test("Cluster agents: one SIGKILLed mid-map, its tasks complete on the others, every result once; its pool workers die with it", async () => {
  await using env = await setup({ agent: false, connect: { ackWait: 2_000 } });
  const agents = await Promise.all([0, 1, 2].map(() => startAgent(env, ["--processes", "2"])));
  try {
    await using pool = env.cluster.pool({ module });
    const victim = agents[0];
    const workers = victim.workers();
    assertEquals(workers.length, 2, "the victim's two pool workers");
    // The task returns its worker's pid: the victim is killed once it has
    // run one (it holds more then), and every result must come once.
    const pids: number[] = [];
    await within(30_000, "map", async () => {
      for await (const p of pool.imapUnordered(pid, Array(90).fill(40), { chunksize: 1 })) {
        pids.push(p);
        if (workers.includes(p)) await victim.kill("SIGKILL");
      }
    });
    assertEquals(pids.length, 90);
    await within(10_000, "the victim's workers to exit", async () => {
      while (workers.some(pidAlive)) await slow(20);
    });
    // A task the victim ran but had not acked is delivered again once its
    // ack wait passes, and run again (its second result is dropped): the
    // stream is empty once that run is acked, not necessarily at the map's end.
    // Looked at every 50 ms, for 10 s at most (a guard, not a timing).
    let left: number[] = [];
    for (let i = 0; i < 200; i++) {
      const { pending, inFlight } = (await env.cluster.status()).streams[0];
      left = [pending, inFlight];
      if (pending === 0 && inFlight === 0) break;
      await slow(50);
    }
    assertEquals(left, [0, 0]);
  } finally {
    for (const a of agents) await a[Symbol.asyncDispose]();
  }
});

Deno.test(`Cluster agents: ${TRIALS} trials of an agent SIGKILLed mid-map, every result exactly once`, async () => {
  await using env = await setup({ agent: false, connect: { ackWait: 1_000 } });
  const args = ["--processes", "1", "--start-method", "worker"];
  const agents = await Promise.all([0, 1, 2].map(() => startAgent(env, args)));
  try {
    await using pool = env.cluster.pool({ module });
    for (let trial = 0; trial < TRIALS; trial++) {
      const v = trial % agents.length;
      await mapKillingOne(pool, agents[v], 30, 5 + (trial % 7));
      agents[v] = await startAgent(env, args);
    }
  } finally {
    for (const a of agents) await a[Symbol.asyncDispose]();
  }
});

Deno.test("Cluster agents: a worker process that dies is retried, and the task succeeds", async () => {
  await using dir = await tempDir();
  await using env = await setup({ agent: { processes: 1, startMethod: "subprocess" } });
  await using pool = env.cluster.pool({ module });
  const result = pool.applyAsync(dieOnce, [`${dir.path}/marker`, 7]);
  assertEquals(await within(30_000, "retry", () => result.get()), 7);
  assertEquals(result.attempts.map((a) => a.outcome), ["worker died", "completed"]);
  assertEquals(result.attempts[0].exitCode, 3);
  assertEquals(env.agent!.record().retried, 1);
});

Deno.test("Cluster agents: a worker that dies under one task of a message: only that task is tried again", async () => {
  await using dir = await tempDir();
  await using env = await setup({ agent: { processes: 2, startMethod: "subprocess" } });
  await using pool = env.cluster.pool({ module });
  const done = `${dir.path}/done`;
  await Deno.writeTextFile(done, "");
  // One turn: the four tasks travel in one message; the first kills its worker once.
  const calls: [string, number][] = [[`${dir.path}/fresh`, 0], [done, 1], [done, 2], [done, 3]];
  const result = pool.starmapAsync(dieOnce, calls, { chunksize: 1 });
  assertEquals(await within(30_000, "the retry", () => result.get()), [0, 1, 2, 3]);
  const outcomes = result.attempts.map((a) => `${a.attempt} ${a.outcome}`).sort();
  assertEquals(outcomes, [
    "1 completed",
    "1 completed",
    "1 completed",
    "1 worker died",
    "2 completed",
  ]);
  assertEquals(env.agent!.record().retried, 1);
  // Counted once the entry is written, which is when the submitter may already have it.
  await within(15_000, "the count", async () => {
    while (env.agent!.record().done < 4) await slow(5);
  });
});

Deno.test("Cluster agents: a poison task fails after maxAttempts, every attempt listed; its batch-mates succeed", async () => {
  await using env = await setup({
    agent: { processes: 2, startMethod: "subprocess" },
    connect: { maxAttempts: 3 },
  });
  await using pool = env.cluster.pool({ module });
  const poisoned = pool.applyAsync(poison, []);
  const fine = pool.map(square, [1, 2, 3], { chunksize: 1 });
  const err = await within(60_000, "poison", () => assertRejects(() => poisoned.get()));
  assertInstanceOf(err, TaskFailedError);
  assertEquals(err.attempts.map((a) => [a.attempt, a.outcome, a.signal]), [
    [1, "worker died", 9],
    [2, "worker died", 9],
    [3, "worker died", 9],
  ]);
  assert(err.attempts.every((a) => a.host === env.cluster.host && a.pid! > 0));
  assert(err.message.includes("attempt 3 on"), err.message);
  assertEquals(await fine, [1, 4, 9]);
  assertEquals(env.agent!.record().failed, 1);
});

Deno.test("Cluster agents: nats-server killed and restarted on the same store mid-map, the map completes", async () => {
  await using env = await setup({
    agent: { processes: 2, startMethod: "worker" },
    connect: { ackWait: 2_000 },
  });
  await using pool = env.cluster.pool({ module });
  const xs = Array.from({ length: 200 }, (_, i) => i);
  const p = pool.map(slow, xs.map(() => 20), { chunksize: 1 });
  await within(15_000, "progress", async () => {
    while (env.agent!.record().done === 0) await slow(5);
  });
  await env.nats.stop("SIGKILL");
  await env.nats.restart();
  assertEquals(await within(60_000, "map after restart", () => p), xs.map(() => 20));
  assertEquals(await pool.map(square, [5]), [25]);
});

Deno.test("Cluster agents: a host that vanishes on a task's last attempt: TaskFailedError from the max-deliveries advisory names it", async () => {
  await using env = await setup({ agent: false, connect: { ackWait: 1_000, maxAttempts: 1 } });
  await using pool = env.cluster.pool({ module });
  const result = pool.applyAsync(slow, [60_000]);
  await using victim = await startAgent(env, ["--processes", "1", "--start-method", "worker"]);
  await within(15_000, "the victim to hold it", async () => {
    while (!(await env.cluster.status()).agents.some((a) => a.held.length > 0)) await slow(25);
  });
  await victim.kill("SIGKILL");
  // JetStream sends the advisory when someone pulls once the lease expired: another agent.
  await env.cluster.serve({ processes: 1, startMethod: "worker" });
  const err = await within(30_000, "the advisory", () => assertRejects(() => result.get()));
  assertInstanceOf(err, TaskFailedError);
  assertEquals(err.attempts.map((a) => [a.attempt, a.outcome, a.agent]), [
    [1, "lease expired", victim.id],
  ]);
  assertEquals(err.attempts[0].host, env.cluster.host);
  await within(15_000, "the dead letter", async () => {
    while ((await env.cluster.status()).streams[0].deadLettered === 0) await slow(25);
  });
});
