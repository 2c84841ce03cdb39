/**
 * The cluster's throughput and latency, side by side with BullMQ (Node, on
 * Redis) in one run, and how long an agent's death holds up its tasks:
 *
 *     deno run -A bench/cluster_throughput.ts [--tasks N] [--processes N] [--prefetch N]
 *       [--calls N] [--ack-wait MS] [--rounds R] [--warmup N] [--pause MS] [--json PATH]
 *
 * It starts a nats-server (JetStream, file store) and a redis-server of its
 * own on free loopback ports (both from Debian's packages), and two worker
 * agents (`cluster/worker.ts`, `processes` subprocess workers each, slots =
 * processes × prefetch) on this machine.
 *
 * - Throughput: `pool.map(noop, 0..N-1, { chunksize: 1 })` through the
 *   cluster, against BullMQ: N jobs added with `addBulk`, two worker
 *   processes with concurrency equal to an agent's slots
 *   (bench/node/bullmq_throughput.mjs). Both timed from the first submit to
 *   the last result; every result checked. Target: >= 5x BullMQ's tasks/s.
 * - Latency: `calls` round trips one after the other (`apply`; BullMQ's
 *   `add` then `waitUntilFinished`), the mean per call.
 * - Failover: an agent SIGKILLed while it runs tasks; the time from the
 *   kill to the map's last result (its held tasks expire after the ack
 *   wait, then run on the other agent).
 *
 * Rounds are interleaved (every variant once per round, in a fresh random
 * order); the report gives medians. bullmq is installed on demand
 * (`npm install --prefix bench/node --no-save bullmq@5`).
 *
 * @module
 */

import { Cluster, type ClusterPool } from "../cluster.ts";
import * as report from "./_report.ts";
import * as env from "./_cluster.ts";
import { noop, pidAfter } from "./_cluster_tasks.ts";

interface Options extends report.RoundOptions {
  tasks: number;
  processes: number;
  prefetch: number;
  calls: number;
  ackWait: number;
}

const USAGE = "Usage: deno run -A bench/cluster_throughput.ts [--tasks N] [--processes N] " +
  "[--prefetch N] [--calls N] [--ack-wait MS] [--rounds R] [--warmup N] [--pause MS] [--json PATH]";
const FLAGS: Record<string, report.Flag<keyof Options>> = {
  "--tasks": { key: "tasks", kind: "count", min: 1 },
  "--processes": { key: "processes", kind: "count", min: 1 },
  "--prefetch": { key: "prefetch", kind: "count", min: 1 },
  "--calls": { key: "calls", kind: "count", min: 1 },
  "--ack-wait": { key: "ackWait", kind: "count", min: 100 },
  ...report.ROUND_FLAGS,
};
const DEFAULTS: Options = {
  tasks: 20_000,
  processes: 2,
  prefetch: 2,
  calls: 200,
  ackWait: 2_000,
  rounds: 3,
  warmup: 1,
  pause: 200,
  json: undefined,
};
const MODULE = new URL("./_cluster_tasks.ts", import.meta.url).href;
const CLUSTER = "cluster map (2 agents)";
const BULLMQ = "BullMQ addBulk (2 workers)";
const RATIOS: report.RatioSpec[] = [[CLUSTER, BULLMQ, ">= 5x BullMQ", (x) => x >= 5]];

function check(results: number[], tasks: number): void {
  const bad = results.findIndex((r, i) => r !== i);
  if (results.length !== tasks || bad >= 0) {
    throw new Error(`The cluster returned ${results.length} results, the first wrong at ${bad}`);
  }
}

async function clusterMap(pool: ClusterPool, tasks: number): Promise<number> {
  const xs = Array.from({ length: tasks }, (_, i) => i);
  const t0 = performance.now();
  const results = await pool.map(noop, xs, { chunksize: 1 });
  const ms = performance.now() - t0;
  check(results, tasks);
  return ms;
}

async function clusterApply(pool: ClusterPool, calls: number): Promise<number> {
  for (let i = 0; i < 20; i++) await pool.apply(noop, [i]);
  const t0 = performance.now();
  for (let i = 0; i < calls; i++) await pool.apply(noop, [i]);
  return (performance.now() - t0) / calls;
}

/** Kills `victim` once it has run a task of a map; ms from the kill to the map's end. */
async function failover(pool: ClusterPool, victim: env.Agent): Promise<number> {
  let killed = 0;
  let results = 0;
  for await (const pid of pool.imapUnordered(pidAfter, Array(400).fill(10), { chunksize: 1 })) {
    results++;
    if (!killed && victim.workers.includes(pid)) {
      victim.child.kill("SIGKILL");
      killed = performance.now();
    }
  }
  if (!killed || results !== 400) throw new Error("The failover sample did not kill mid-map");
  return performance.now() - killed;
}

function printReport(stats: Record<string, report.Rates>, rs: report.Ratio[]): void {
  const format = (x: number) => Math.round(x).toLocaleString("en-US");
  const rows = Object.entries(stats).map(([name, r]) => [name, ...report.ratesRow(r, format)]);
  report.printTable(["variant", "tasks/s med", "min", "max", "med ms", "spread"], rows);
  report.printRatios("ratio of median tasks/s (higher is faster)", rs, 2);
}

async function main(opts: Options): Promise<void> {
  await env.ensureBullmq();
  await using nats = await env.startNats();
  await using redis = await env.startRedis();
  const authkey = Array.from(
    crypto.getRandomValues(new Uint8Array(32)),
    (b) => b.toString(16).padStart(2, "0"),
  ).join("");
  const name = "bench";
  await using cluster = await Cluster.connect({
    servers: nats.url,
    name,
    authkey,
    root: env.ROOT,
    ackWait: opts.ackWait,
  });
  const flags = ["--processes", `${opts.processes}`, "--prefetch", `${opts.prefetch}`];
  await using a = await env.startAgent(nats, name, authkey, flags);
  await using b = await env.startAgent(nats, name, authkey, flags);
  await using pool = cluster.pool({ module: MODULE });
  const slots = opts.processes * opts.prefetch;
  const bull = ["--workers", "2", "--concurrency", `${slots}`, "--tasks", `${opts.tasks}`];
  const variants: report.Variant[] = [
    { name: CLUSTER, run: () => clusterMap(pool, opts.tasks) },
    { name: BULLMQ, run: async () => (await env.runBullmq(redis, bull)).elapsed_ms, warm: null },
  ];
  await clusterMap(pool, 2_000); // The agents import the task module, the JIT warms up.
  const { samples, loadavg } = await report.measure(variants, opts);
  const stats = report.summarize(samples, (ms) => report.rates(ms, opts.tasks));
  const rs = report.ratios(stats, (r) => r.median, RATIOS);
  const ourCall = await clusterApply(pool, opts.calls);
  const peer = await env.runBullmq(redis, [...bull, "--mode", "apply", "--calls", `${opts.calls}`]);
  const recovery = await failover(pool, a);
  const info = report.runInfo(undefined, loadavg);
  report.printHeading(
    info,
    `${opts.tasks} no-op tasks, chunksize 1, 2 agents x ${opts.processes} processes ` +
      `(${slots} slots each), bullmq ${peer.bullmq} on node ${peer.version}, median of ${opts.rounds} rounds`,
  );
  printReport(stats, rs);
  console.log(
    `\napply round trip, mean of ${opts.calls}: cluster ${ourCall.toFixed(2)} ms, ` +
      `BullMQ ${peer.per_call_ms.toFixed(2)} ms (${(peer.per_call_ms / ourCall).toFixed(2)}x)`,
  );
  console.log(
    `agent SIGKILLed mid-map: its tasks done elsewhere ${recovery.toFixed(0)} ms after ` +
      `the kill (ack wait ${opts.ackWait} ms)`,
  );
  const json: Record<string, unknown> = report.ratesJson(stats, "tasks_per_s");
  Object.assign(json, {
    apply_ms: { cluster: ourCall, bullmq: peer.per_call_ms },
    failover_ms: recovery,
  });
  const params = {
    tasks: opts.tasks,
    processes: opts.processes,
    prefetch: opts.prefetch,
    ack_wait: opts.ackWait,
  };
  await report.writeJson(opts.json, info, params, json, rs);
  void b;
}

if (import.meta.main) {
  await report.unsuppressed(() => main(report.parseFlags(Deno.args, DEFAULTS, FLAGS, USAGE)));
}
