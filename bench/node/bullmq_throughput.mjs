/**
 * The BullMQ peer of bench/cluster_throughput.ts, which runs this script
 * once per round against a redis-server it started:
 *
 *     node bench/node/bullmq_throughput.mjs --redis 127.0.0.1:6379 [--tasks 20000]
 *       [--workers 2] [--concurrency 4] [--mode map|apply] [--calls 200]
 *
 * WORKERS worker processes (this script with `--worker`, each one BullMQ
 * `Worker` with CONCURRENCY) run no-op jobs (`job.data.i`, returned). Mode
 * `map`: TASKS jobs added with `addBulk` (chunks of 1,000), timed from the
 * first `addBulk` to the last `completed` event; every return value is
 * summed and checked. Mode `apply`: CALLS jobs one after the other, each
 * `add` then `waitUntilFinished`: the round trip. A warm-up of the same
 * mode runs first, off the clock. Prints JSON {tasks, elapsed_ms, sum,
 * per_call_ms, version, bullmq}.
 *
 * bullmq is installed on demand by cluster_throughput.ts
 * (`npm install --prefix bench/node --no-save bullmq@5`).
 */

import process from "node:process";
import { spawn } from "node:child_process";
import { createRequire } from "node:module";
import { parseArgs } from "node:util";

// Loaded through require: a bare import would make `deno check bench/` look
// for the package, which is installed only when the benchmark runs.
const require = createRequire(import.meta.url);
const { Queue, QueueEvents, Worker } = require("bullmq");

const { values: opts } = parseArgs({
  options: {
    redis: { type: "string", default: "127.0.0.1:6379" },
    tasks: { type: "string", default: "20000" },
    workers: { type: "string", default: "2" },
    concurrency: { type: "string", default: "4" },
    mode: { type: "string", default: "map" },
    calls: { type: "string", default: "200" },
    worker: { type: "boolean", default: false },
  },
});
const [host, port] = opts.redis.split(":");
const connection = { host, port: Number(port), maxRetriesPerRequest: null };
const QUEUE = "mp-bench";

/** A worker process: runs no-op jobs until SIGTERM. */
async function serve() {
  // A processor returning a value (not a promise): BullMQ awaits it either way.
  const worker = new Worker(QUEUE, (job) => job.data.i, {
    connection,
    concurrency: Number(opts.concurrency),
  });
  await worker.waitUntilReady();
  console.log("ready");
  const stop = async () => {
    // Closing waits on Redis: not for ever, where Redis is gone.
    setTimeout(() => process.exit(0), 2000).unref();
    await worker.close();
    process.exit(0);
  };
  process.on("SIGTERM", stop);
  // The producer holds our stdin: its end means the producer is gone.
  process.stdin.on("end", stop);
  process.stdin.resume();
}

/** Starts the worker processes; resolves once each says it is ready. */
async function startWorkers(n) {
  const script = new URL(import.meta.url).pathname;
  const args = [script, "--worker", "--redis", opts.redis, "--concurrency", opts.concurrency];
  return await Promise.all(Array.from({ length: n }, () =>
    new Promise((resolve, reject) => {
      const child = spawn(process.execPath, args, { stdio: ["pipe", "pipe", "inherit"] });
      child.stdout.once("data", () => resolve(child));
      child.once("exit", (code) => reject(new Error(`a BullMQ worker exited with ${code}`)));
    })));
}

/** TASKS jobs with addBulk; resolves the time from the first add to the last completion. */
async function mapRun(queue, events, tasks) {
  let done = 0;
  let sum = 0;
  const finished = new Promise((resolve) => {
    events.on("completed", ({ returnvalue }) => {
      sum += Number(returnvalue);
      if (++done === tasks) resolve();
    });
  });
  const jobs = Array.from({ length: tasks }, (_, i) => ({
    name: "noop",
    data: { i },
    opts: { removeOnComplete: true },
  }));
  const t0 = performance.now();
  for (let i = 0; i < tasks; i += 1000) await queue.addBulk(jobs.slice(i, i + 1000));
  await finished;
  const elapsed = performance.now() - t0;
  events.removeAllListeners("completed");
  return { elapsed, sum };
}

/** CALLS round trips, one after the other; resolves the mean ms per call. */
async function applyRun(queue, events, calls) {
  const t0 = performance.now();
  for (let i = 0; i < calls; i++) {
    // Kept once complete: waitUntilFinished reads the finished job.
    const job = await queue.add("noop", { i });
    await job.waitUntilFinished(events);
  }
  return (performance.now() - t0) / calls;
}

async function main() {
  const tasks = Number(opts.tasks);
  const queue = new Queue(QUEUE, { connection });
  await queue.obliterate({ force: true });
  const events = new QueueEvents(QUEUE, { connection });
  await events.waitUntilReady();
  const workers = await startWorkers(Number(opts.workers));
  const out = { tasks, elapsed_ms: 0, sum: 0, per_call_ms: 0, version: process.version };
  out.bullmq = require("bullmq/package.json").version;
  if (opts.mode === "apply") {
    await applyRun(queue, events, 20);
    out.per_call_ms = await applyRun(queue, events, Number(opts.calls));
  } else {
    await mapRun(queue, events, Math.min(2000, tasks));
    const { elapsed, sum } = await mapRun(queue, events, tasks);
    Object.assign(out, { elapsed_ms: elapsed, sum });
  }
  for (const w of workers) w.kill("SIGTERM");
  await Promise.all(workers.map((w) => new Promise((r) => w.once("exit", r))));
  await events.close();
  await queue.close();
  console.log(JSON.stringify(out));
}

if (opts.worker) await serve();
else await main();
