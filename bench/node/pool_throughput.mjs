/**
 * Throughput of piscina, Node's worker-thread pool: the peer of
 * bench/pool_throughput.ts, which runs this script once per round.
 *
 *     node bench/node/pool_throughput.mjs [--tasks 20000] [--threads 2]
 *
 * A pool of THREADS threads (`minThreads` = `maxThreads`) runs TASKS no-op
 * tasks, `piscina.run(i)` for i < TASKS, all submitted at once and awaited
 * with `Promise.all`. Timed inside the process from the first submission to
 * the last result; every thread has run a task (so all are started and have
 * imported this module), and a warm-up of the same kind has run, before the
 * clock starts. The results are checked in order. Prints JSON
 * {tasks, threads, elapsed_ms, tasks_per_s, sum, version, piscina, deno}, where
 * `deno` is Deno's version when Deno runs this (it does for a `node` command
 * where no node is on PATH), or null under Node.
 *
 * This file is also the threads' task module: imported there, it runs
 * nothing. piscina is installed on demand by pool_throughput.ts
 * (`npm install --prefix bench/node --no-save piscina@4`).
 */

import process from "node:process";
import { isMainThread, threadId } from "node:worker_threads";
import { parseArgs } from "node:util";

/** Tasks of the warm-up before the clock, as bench/_pool.ts. */
const WARMUP_TASKS = 2_000;
/** Rounds of `whoami` before giving up on a thread that never starts. */
const START_TRIES = 500;

/** The task: as cheap as a task can be. */
export default function noop(x) {
  return x;
}

/** Which thread ran it, after `ms` ms: long enough that every started thread gets one. */
export async function whoami(ms) {
  await new Promise((resolve) => setTimeout(resolve, ms));
  return threadId;
}

async function allStarted(pool, threads) {
  for (let i = 0; i < START_TRIES; i++) {
    const tasks = Array.from({ length: threads * 2 }, () => pool.run(20, { name: "whoami" }));
    if (new Set(await Promise.all(tasks)).size >= threads) return;
  }
  throw new Error(`Not every piscina thread started after ${START_TRIES} tries`);
}

function submit(pool, items) {
  return Promise.all(items.map((i) => pool.run(i)));
}

function check(results, n) {
  const sum = results.reduce((a, b) => a + b, 0);
  const i = results.findIndex((r, i) => r !== i);
  if (results.length !== n || i >= 0) {
    throw new Error(
      `piscina returned ${results.length} results summing to ${sum}, ` +
        `expected ${n} summing to ${n * (n - 1) / 2}`,
    );
  }
  return sum;
}

async function main() {
  const { values } = parseArgs({
    options: {
      tasks: { type: "string", default: "20000" },
      threads: { type: "string", default: "2" },
    },
  });
  const [tasks, threads] = [Number(values.tasks), Number(values.threads)];
  if (!(Number.isInteger(tasks) && tasks >= 1 && Number.isInteger(threads) && threads >= 1)) {
    throw new RangeError(
      `--tasks and --threads must be positive integers, received ${values.tasks} ${values.threads}`,
    );
  }
  // Imported here: a missing piscina fails with its own message, not at load.
  const { Piscina, version } = await import("piscina");
  const pool = new Piscina({
    filename: new URL(import.meta.url).href,
    minThreads: threads,
    maxThreads: threads,
  });
  try {
    await allStarted(pool, threads);
    check(await submit(pool, Array.from({ length: WARMUP_TASKS }, (_, i) => i)), WARMUP_TASKS);
    const items = Array.from({ length: tasks }, (_, i) => i);
    const t0 = performance.now();
    const results = await submit(pool, items);
    const elapsed = performance.now() - t0;
    const sum = check(results, tasks);
    console.log(JSON.stringify({
      tasks,
      threads,
      elapsed_ms: elapsed,
      tasks_per_s: tasks / (elapsed / 1000),
      sum,
      version: process.version,
      piscina: version,
      deno: process.versions.deno ?? null,
    }));
  } finally {
    await pool.destroy();
  }
}

if (isMainThread) await main();
