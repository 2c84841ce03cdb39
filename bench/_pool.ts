// One sample of pool throughput (many no-op tasks on a started pool), for
// the side-by-side script (pool_throughput.ts). Pool workers import this
// module for its task functions, so it starts nothing at its top level.

import { Pool } from "../pool.ts";
import type { StartMethod } from "../process.ts";
import { unsuppressed, watchdog } from "./_report.ts";

/** The task: as cheap as a task can be, so that only the pool's cost is measured. */
export function noop(x: number): number {
  return x;
}

/** This module's instance: each worker (thread or process) imports its own. */
const INSTANCE = crypto.randomUUID();

/** Which worker ran it, after `ms` ms: a task long enough that every started worker gets one. */
export async function whoami(ms: number): Promise<string> {
  await new Promise((resolve) => setTimeout(resolve, ms));
  return INSTANCE;
}

/** How the tasks are submitted: `applyAsync` per task then all awaited, or one `map`. */
export type Mode = "apply" | "map";

/** The module the workers import for {@link noop}: this one. */
const MODULE = import.meta.url;
/** Tasks of the warm-up before the clock, submitted as the sample's: enough to compile the hot paths. */
const WARMUP_TASKS = 2_000;
/** Rounds of {@link whoami} before the sample gives up on a worker that never starts. */
const START_TRIES = 500;

/** Where a sample is, for the watchdog's message. */
type Phase = "start" | "warm-up" | "run" | "close";

/** Milliseconds a sample may take before it counts as hung: 1,000 tasks/s at worst. */
export function watchdogMs(tasks: number): number {
  return 30_000 + tasks;
}

/** Resolves once every worker has run a task: all are started and have imported this module. */
async function allStarted(pool: Pool, processes: number): Promise<void> {
  for (let i = 0; i < START_TRIES; i++) {
    const ids = await pool.map(whoami, Array(processes * 2).fill(20), { chunksize: 1 });
    if (new Set(ids).size >= processes) return;
  }
  throw new Error(`Not every pool worker started after ${START_TRIES} tries`);
}

function check(results: number[], tasks: number): void {
  const sum = results.reduce((a, b) => a + b, 0);
  const expected = tasks * (tasks - 1) / 2;
  if (results.length !== tasks || sum !== expected) {
    throw new Error(
      `Pool returned ${results.length} results summing to ${sum}, ` +
        `expected ${tasks} summing to ${expected}`,
    );
  }
  const i = results.findIndex((r, i) => r !== i);
  if (i >= 0) throw new Error(`Pool returned ${results[i]} for task ${i}`);
}

/** Runs `noop(i)` for every item, submitted the `mode` way; results in item order. */
function submit(pool: Pool, mode: Mode, items: number[]): Promise<number[]> {
  return mode === "map"
    ? pool.map(noop, items, { chunksize: 1 })
    : Promise.all(items.map((i) => pool.applyAsync(noop, [i])));
}

async function timed(
  pool: Pool,
  mode: Mode,
  tasks: number,
  processes: number,
  progress: { phase: Phase },
): Promise<number> {
  await allStarted(pool, processes);
  progress.phase = "warm-up";
  const warm = Array.from({ length: WARMUP_TASKS }, (_, i) => i);
  check(await submit(pool, mode, warm), WARMUP_TASKS);

  progress.phase = "run";
  const items = Array.from({ length: tasks }, (_, i) => i);
  const t0 = performance.now();
  const results = await submit(pool, mode, items);
  const elapsed = performance.now() - t0;

  progress.phase = "close";
  check(results, tasks);
  return elapsed;
}

/**
 * One sample: starts a pool of `processes` workers, waits until every one
 * has run a task, warms up (submitting as `mode` does), then times `tasks` no-op tasks
 * (`noop(i)` for i < tasks) and checks every result. Rejects loudly on a
 * wrong result, a failed worker or a hang (after {@link watchdogMs}).
 *
 * @returns Milliseconds from the first submission to the last result.
 */
export function poolSample(
  startMethod: StartMethod,
  mode: Mode,
  tasks: number,
  processes: number,
): Promise<number> {
  return unsuppressed(() => sample(startMethod, mode, tasks, processes));
}

async function sample(
  startMethod: StartMethod,
  mode: Mode,
  tasks: number,
  processes: number,
): Promise<number> {
  // Closed and joined on the way out; terminated first after a failure or
  // a hang, so that disposal does not wait for tasks that never finish.
  await using pool = new Pool({ processes, module: MODULE, startMethod });
  const progress = { phase: "start" as Phase };
  try {
    return await watchdog(
      timed(pool, mode, tasks, processes, progress),
      watchdogMs(tasks),
      () =>
        `Pool [${startMethod}] ${mode} hung: no result after ${watchdogMs(tasks)} ms, ` +
        `in phase '${progress.phase}'`,
    );
  } catch (err) {
    pool.terminate();
    throw err;
  }
}
