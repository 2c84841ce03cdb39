/**
 * Queue throughput, parent -> child -> parent, side by side with Python's
 * `multiprocessing.Queue` (spawn), in one run:
 *
 *     deno run -A bench/queue_throughput.ts [--items N] [--rounds R] [--warmup N] [--pause MS] [--json PATH]
 *     PYTHON="env PYENV_VERSION=3.13.0 python3" deno run -A bench/queue_throughput.ts
 *
 * The parent puts N small objects (`{ i, s: "x" }`) into queue A, a child
 * gets each from A and puts it into queue B, the parent gets N items from
 * B. The clock runs from the first put to the last get; the child is
 * started, and one item has made the round trip (so that both ends are
 * connected), before it starts. Python's peer (py/queue_throughput.py)
 * does the same and times itself the same way.
 *
 * `PYTHON` is a command, split on whitespace (default `python3`); where it
 * cannot run, Python is skipped with a note. Rounds are interleaved (every
 * variant once per round, in a fresh random order) so that machine noise
 * hits all variants alike; the report gives the median of the rounds.
 *
 * The sample itself, and the child's target, are in `_queue.ts`.
 *
 * @module
 */

import type { StartMethod } from "../process.ts";
import { queueRoundTrip, watchdogMs } from "./_queue.ts";
import * as report from "./_report.ts";

interface Options extends report.RoundOptions {
  items: number;
}

const USAGE = "Usage: deno run -A bench/queue_throughput.ts " +
  "[--items N] [--rounds R] [--warmup N] [--pause MS] [--json PATH]";
const FLAGS: Record<string, report.Flag<keyof Options>> = {
  "--items": { key: "items", kind: "count", min: 1 },
  ...report.ROUND_FLAGS,
};
const DEFAULTS: Options = { items: 100_000, rounds: 3, warmup: 1, pause: 100, json: undefined };
const PY_SCRIPT = report.peerScript("queue_throughput.py");
const SUBPROCESS = "Queue [subprocess]";
const WORKER = "Queue [worker]";
const PYTHON = "Python mp.Queue spawn";
/** Items of a warm-up sample: enough to compile the hot paths. */
const WARMUP_ITEMS = 10_000;

const RATIOS: report.RatioSpec[] = [
  [SUBPROCESS, PYTHON, ">= 5x Python", (x) => x >= 5],
  [WORKER, PYTHON, "none (reported)", null],
  [WORKER, SUBPROCESS, "none (reported)", null],
];

/** Runs the Python peer once; it times itself, excluding its own start. */
async function runPeer(items: number): Promise<{ elapsed_ms: number; version: string }> {
  const args = ["--items", String(items)];
  const peer = await report.runPython<{ items: number; elapsed_ms: number; version: string }>(
    PY_SCRIPT,
    args,
    watchdogMs(items),
  );
  if (peer.items !== items) {
    throw new Error(`Python moved ${peer.items} items, not ${items}`);
  }
  return peer;
}

function queueVariant(name: string, startMethod: StartMethod, items: number): report.Variant {
  return {
    name,
    run: () => queueRoundTrip(startMethod, items),
    // The first child of each method transpiles and caches its module
    // graph, and the parent's JIT has yet to compile the queue's hot paths.
    warm: () => queueRoundTrip(startMethod, Math.min(items, WARMUP_ITEMS)),
  };
}

function printReport(stats: Record<string, report.Rates>, rs: report.Ratio[]): void {
  const format = (x: number) => Math.round(x).toLocaleString("en-US");
  const rows = Object.entries(stats).map(([name, r]) => [name, ...report.ratesRow(r, format)]);
  report.printTable(["variant", "items/s med", "min", "max", "med ms", "spread"], rows);
  report.printRatios("ratios of median items/s (higher is faster)", rs, 2);
}

async function main(opts: Options): Promise<void> {
  // Doubles as Python's warm-up: the first run reads (and may compile) its imports.
  const python = await report.probePython(() => runPeer(1000));
  const { items, rounds, warmup, pause } = opts;
  // One interpreter per sample keeps Python interleaved with the others;
  // its probe was its warm-up.
  const py: report.Variant = {
    name: PYTHON,
    run: async () => (await runPeer(items)).elapsed_ms,
    warm: null,
  };
  const variants: report.Variant[] = [
    queueVariant(SUBPROCESS, "subprocess", items),
    queueVariant(WORKER, "worker", items),
    ...(python ? [py] : []),
  ];
  const { samples, loadavg } = await report.measure(variants, opts);
  const stats = report.summarize(samples, (ms) => report.rates(ms, items));
  const rs = report.ratios(stats, (r) => r.median, RATIOS);
  const info = report.runInfo(python, loadavg);
  report.printHeading(info, `${items} items {i, s:"x"}, median of ${rounds} rounds`);
  printReport(stats, rs);
  const json = report.ratesJson(stats, "items_per_s");
  await report.writeJson(opts.json, info, { items, rounds, warmup, pause }, json, rs);
}

if (import.meta.main) {
  await main(report.parseFlags(Deno.args, DEFAULTS, FLAGS, USAGE));
}
