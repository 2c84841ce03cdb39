/**
 * One `AbortSignal` shared by many pool tasks (issue #15 item 8), in one run:
 *
 *     deno run -A bench/pool_signal.ts [--tasks 100000] [--rounds R] [--warmup N] [--pause MS] [--json PATH]
 *
 * On a started `Pool(2)`, `tasks` no-op `applyAsync` calls, all awaited,
 * without a signal and with one signal shared by all; from the first
 * submission to the last result. Target: with the signal within 1.5x of
 * the time without. Then, once per start method, the abort of `tasks`
 * queued tasks (behind one that holds the only worker): how long the
 * `abort()` call itself holds the event loop, and how long until every
 * task has failed (reported).
 *
 * Rounds are interleaved (every variant once per round, in a fresh random
 * order); the report gives medians. The task functions are in `_sched.ts`.
 *
 * @module
 */

import type { Pool } from "../pool.ts";
import type { StartMethod } from "../process.ts";
import { noop, sleepMs, startedPool } from "./_sched.ts";
import * as report from "./_report.ts";

interface Options extends report.RoundOptions {
  tasks: number;
}

const USAGE = "Usage: deno run -A bench/pool_signal.ts " +
  "[--tasks N] [--rounds R] [--warmup N] [--pause MS] [--json PATH]";
const FLAGS: Record<string, report.Flag<keyof Options>> = {
  "--tasks": { key: "tasks", kind: "count", min: 1 },
  ...report.ROUND_FLAGS,
};
const DEFAULTS: Options = { tasks: 100_000, rounds: 3, warmup: 1, pause: 100, json: undefined };
const METHODS: StartMethod[] = ["worker", "subprocess"];

async function submitAll(pool: Pool, n: number, signal?: AbortSignal): Promise<void> {
  const results = Array.from({ length: n }, (_, i) => pool.applyAsync(noop, [i], { signal }));
  const values = await Promise.all(results);
  if (values.length !== n || values[n - 1] !== n - 1) throw new Error("Wrong results");
}

async function sample(method: StartMethod, tasks: number, shared: boolean): Promise<number> {
  await using pool = await startedPool(2, method);
  await submitAll(pool, 2_000, shared ? new AbortController().signal : undefined);
  const signal = shared ? new AbortController().signal : undefined;
  const t0 = performance.now();
  await submitAll(pool, tasks, signal);
  return performance.now() - t0;
}

/** Aborts `tasks` queued tasks: the abort() call's own time, and the time until all failed. */
async function abortQueued(method: StartMethod, tasks: number): Promise<[number, number]> {
  await using pool = await startedPool(1, method);
  const blocker = pool.apply(sleepMs, [500]);
  const controller = new AbortController();
  const failed = Array.from(
    { length: tasks },
    (_, i) =>
      pool.applyAsync(noop, [i], { signal: controller.signal }).then(
        () => 0,
        () => 1 as number,
      ),
  );
  await new Promise((resolve) => setTimeout(resolve, 50));
  const t0 = performance.now();
  controller.abort();
  const held = performance.now() - t0;
  const n = (await Promise.all(failed)).reduce((a, b) => a + b, 0);
  const all = performance.now() - t0;
  if (n !== tasks) throw new Error(`${tasks - n} of the aborted tasks did not fail`);
  await blocker;
  return [held, all];
}

async function main(o: Options): Promise<void> {
  const variants: report.Variant[] = METHODS.flatMap((m) => [
    { name: `applyAsync [${m}]`, run: () => sample(m, o.tasks, false), warm: null },
    { name: `applyAsync + shared signal [${m}]`, run: () => sample(m, o.tasks, true), warm: null },
  ]);
  const { samples, loadavg } = await report.measure(variants, o);
  const stats = report.summarize(samples, (ms) => report.rates(ms, o.tasks));
  const specs: report.RatioSpec[] = METHODS.map((m) => [
    `applyAsync + shared signal [${m}]`,
    `applyAsync [${m}]`,
    "<= 1.5x the time without",
    (x) => x <= 1.5,
  ]);
  const rs = report.ratios(stats, (r) => r.medianMs, specs);
  const info = report.runInfo(undefined, loadavg);
  report.printHeading(
    info,
    `${o.tasks} no-op applyAsync on 2 workers, median of ${o.rounds} rounds`,
  );
  const format = (x: number) => Math.round(x).toLocaleString("en-US");
  const rows = Object.entries(stats).map(([name, r]) => [name, ...report.ratesRow(r, format)]);
  report.printTable(["variant", "tasks/s med", "min", "max", "med ms", "spread"], rows);
  report.printRatios("ratios of median times (lower is faster)", rs, 2);
  console.log(`\nabort() of ${o.tasks} queued tasks sharing one signal (reported)`);
  const aborts: Record<string, number[]> = {};
  for (const m of METHODS) {
    const [held, all] = await abortQueued(m, o.tasks);
    aborts[m] = [held, all];
    console.log(
      `[${m}] abort() held the event loop ${held.toFixed(1)} ms; all failed after ${
        all.toFixed(1)
      } ms`,
    );
  }
  const json = { ...report.ratesJson(stats, "tasks_per_s"), aborts_ms: aborts };
  const { tasks, rounds, warmup, pause } = o;
  await report.writeJson(o.json, info, { tasks, rounds, warmup, pause }, json, rs);
}

if (import.meta.main) {
  await main(report.parseFlags(Deno.args, DEFAULTS, FLAGS, USAGE));
}
