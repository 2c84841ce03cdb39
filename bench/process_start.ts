/**
 * Start-up of a `Process` (start, then join, of an empty target) side by side
 * with its floors and with Python's `multiprocessing` (spawn), in one run:
 *
 *     deno run -A bench/process_start.ts [--rounds N] [--warmup N] [--pause MS] [--json PATH]
 *     PYTHON="env PYENV_VERSION=3.13.0 python3" deno run -A bench/process_start.ts
 *
 * Two cold variants put the target in a module that imports the package,
 * as a program's own targets are (and Python's peer's is): the child then
 * loads the whole package before its target runs; a third, in one that
 * imports only the package's `./process` entry.
 *
 * The warm variants take a spare started ahead; two of them have the child
 * put one item in a queue of the parent (got before the join): a child's
 * first use of a handle (reported).
 *
 * `PYTHON` is a command, split on whitespace (default `python3`). Rounds are
 * interleaved (every variant once per round, in a fresh random order) so
 * that machine noise hits all variants alike.
 *
 * @module
 */

import { processStartJoin, rawCommand, rawNodeWorker, rawWorker, warmStartJoin } from "./_start.ts";
import * as report from "./_report.ts";

interface Stats {
  median_ms: number;
  p90_ms: number;
  samples: number[];
}

const USAGE = "Usage: deno run -A bench/process_start.ts " +
  "[--rounds N] [--warmup N] [--pause MS] [--json PATH]";
const PY_SCRIPT = report.peerScript("process_start.py");
const RAW_COMMAND = "raw Deno.Command (floor)";
const SUBPROCESS = "Process [subprocess]";
const RAW_WORKER = "raw Web Worker";
const RAW_NODE_WORKER = "raw node:worker_threads Worker (floor)";
const WORKER = "Process [worker]";
const PYTHON = "Python spawn";
// Python's target is in its main module, which imports multiprocessing: a
// spawned child imports both. Ours, so placed, loads the whole package.
const SUBPROCESS_MAIN = "Process [subprocess], target's module imports the package";
const WORKER_MAIN = "Process [worker], target's module imports the package";
const SUBPROCESS_PROCESS = "Process [subprocess], target's module imports ./process only";
const WARM_SUBPROCESS = "Process [subprocess] warm";
const WARM_WORKER = "Process [worker] warm";
const WARM_PUT_SUBPROCESS = "Process [subprocess] warm, child puts one item";
const WARM_PUT_WORKER = "Process [worker] warm, child puts one item";
const PY_FORKSERVER = "Python forkserver";

const DEFAULTS: report.RoundOptions = {
  rounds: 20,
  // Warm-up compiles and caches each module graph: the first `deno run` of a
  // module pays for transpiling it, which no later start does.
  warmup: 2,
  // A terminated worker's isolate is torn down on its own thread after
  // terminate() returns; on 2 cores that slows whatever starts next by up
  // to 10 ms. The pause lets such after-effects finish off the clock.
  pause: 50,
  json: undefined,
};

const RATIOS: report.RatioSpec[] = [
  [SUBPROCESS, RAW_COMMAND, "<= 1.2x", (x) => x <= 1.2],
  // Worker children run on node:worker_threads threads (a stuck one cannot
  // hold the program): that is their floor. The Web Worker's is reported.
  [WORKER, RAW_NODE_WORKER, "<= 1.3x", (x) => x <= 1.3],
  [WORKER, RAW_WORKER, "(reported)", null],
  [PYTHON, SUBPROCESS, "> 1x (faster than Python)", (x) => x > 1],
  [PYTHON, WORKER, "> 1x (faster than Python)", (x) => x > 1],
  [PYTHON, SUBPROCESS_MAIN, "> 1x (faster than Python)", (x) => x > 1],
  [PYTHON, WORKER_MAIN, "> 1x (faster than Python)", (x) => x > 1],
  [PYTHON, SUBPROCESS_PROCESS, "(reported)", null],
  // Python 3.14's default on Linux, timed once its server is up.
  [WARM_SUBPROCESS, PY_FORKSERVER, "<= 0.5x", (x) => x <= 0.5],
  [WARM_WORKER, PY_FORKSERVER, "<= 0.25x", (x) => x <= 0.25],
];

function timed(name: string, fn: () => Promise<void>): report.Variant {
  return {
    name,
    async run() {
      const t0 = performance.now();
      await fn();
      return performance.now() - t0;
    },
  };
}

/** Runs the Python peer; it times start+join itself, excluding its own start. */
function runPeer(
  rounds: number,
  method = "spawn",
): Promise<{ samples: number[]; version: string }> {
  return report.runPython(PY_SCRIPT, ["--rounds", String(rounds), "--method", method]);
}

function latency(samples: number[]): Stats {
  return {
    median_ms: report.median(samples),
    p90_ms: report.quantile(samples, 0.9),
    samples,
  };
}

function printReport(stats: Record<string, Stats>, rs: report.Ratio[]): void {
  const rows = Object.entries(stats).map(([name, s]) => [
    name,
    ...[s.median_ms, s.p90_ms].map((x) => x.toFixed(1)),
  ]);
  report.printTable(["variant", "median ms", "p90 ms"], rows);
  report.printRatios("ratios of medians", rs, 3);
}

const refills = new Map<string, number[]>();

/** Keeps a warm sample's refill time apart; returns its start-to-join time. */
function record(name: string, r: { ms: number; refillMs: number }): number {
  refills.set(name, [...refills.get(name) ?? [], r.refillMs]);
  return r.ms;
}

async function main(opts: report.RoundOptions): Promise<void> {
  const python = await report.probePython(() => runPeer(1));
  const variants = [
    timed(RAW_COMMAND, rawCommand),
    timed(SUBPROCESS, () => processStartJoin("subprocess")),
    timed(RAW_WORKER, rawWorker),
    timed(RAW_NODE_WORKER, rawNodeWorker),
    timed(WORKER, () => processStartJoin("worker")),
    timed(SUBPROCESS_MAIN, () => processStartJoin("subprocess", "package")),
    timed(WORKER_MAIN, () => processStartJoin("worker", "package")),
    timed(SUBPROCESS_PROCESS, () => processStartJoin("subprocess", "process")),
    // One interpreter per sample keeps Python interleaved with the others.
    ...(python ? [{ name: PYTHON, run: async () => (await runPeer(1)).samples[0] }] : []),
    {
      name: WARM_SUBPROCESS,
      run: async () => record(WARM_SUBPROCESS, await warmStartJoin("subprocess")),
    },
    { name: WARM_WORKER, run: async () => record(WARM_WORKER, await warmStartJoin("worker")) },
    {
      name: WARM_PUT_SUBPROCESS,
      run: async () => record(WARM_PUT_SUBPROCESS, await warmStartJoin("subprocess", true)),
    },
    {
      name: WARM_PUT_WORKER,
      run: async () => record(WARM_PUT_WORKER, await warmStartJoin("worker", true)),
    },
    // Its server starts with the interpreter's first child (the warm-up):
    // then each start asks the server, which forks.
    ...(python
      ? [{ name: PY_FORKSERVER, run: async () => (await runPeer(1, "forkserver")).samples[0] }]
      : []),
  ];

  const { samples, loadavg } = await report.measure(variants, opts);

  const stats = report.summarize(samples, latency);
  const rs = report.ratios(stats, (s) => s.median_ms, RATIOS);
  const { rounds, warmup, pause } = opts;
  const info = report.runInfo(python, loadavg);
  report.printHeading(info, `${rounds} rounds, ${pause} ms pause`);
  printReport(stats, rs);
  for (const [name, ms] of refills) {
    console.log(
      `${name}: refill (spare taken to the next one ready) median ${
        report.median(ms).toFixed(1)
      } ms`,
    );
  }
  await report.writeJson(opts.json, info, { rounds, warmup, pause }, stats, rs);
}

if (import.meta.main) {
  await main(report.parseFlags(Deno.args, DEFAULTS, report.ROUND_FLAGS, USAGE));
}
