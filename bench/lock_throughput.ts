/**
 * Lock throughput between worker children, side by side with Python's
 * `multiprocessing.Lock` between processes (spawn), in one run:
 *
 *     deno run -A bench/lock_throughput.ts [--ops N] [--procs K] [--rounds R] [--warmup N] [--pause MS] [--json PATH]
 *     PYTHON="env PYENV_VERSION=3.13.0 python3" deno run -A bench/lock_throughput.ts
 *
 * Three samples, each on both sides (`_lock.ts`, `py/lock_throughput.py`):
 * `uncontended`, one child doing N acquire/release pairs; `contended`, K
 * children sharing N pairs on one lock; `counter`, K children sharing N
 * increments of a `Value` under its lock (read, add one, write: Python's
 * `with v.get_lock(): v.value += 1`). Children, once started, pass a
 * Barrier with the parent; a sample is the wall-clock time from there to
 * the last child's finish (the lock's throughput as the program sees it). Rounds are interleaved and shuffled; the report gives medians.
 *
 * @module
 */

import { lockSample, type Mode } from "./_lock.ts";
import * as report from "./_report.ts";

interface Options extends report.RoundOptions {
  ops: number;
  procs: number;
}

const USAGE = "Usage: deno run -A bench/lock_throughput.ts " +
  "[--ops N] [--procs K] [--rounds R] [--warmup N] [--pause MS] [--json PATH]";
const FLAGS: Record<string, report.Flag<keyof Options>> = {
  "--ops": { key: "ops", kind: "count", min: 1 },
  "--procs": { key: "procs", kind: "count", min: 1 },
  ...report.ROUND_FLAGS,
};
const DEFAULTS: Options = {
  ops: 1_000_000,
  procs: 2,
  rounds: 3,
  warmup: 1,
  pause: 100,
  json: undefined,
};
const PY_SCRIPT = report.peerScript("lock_throughput.py");
const MODES: Mode[] = ["uncontended", "contended", "counter"];
const ours = (m: Mode) => `${m} [worker]`;
const python = (m: Mode) => `${m} [Python]`;

const RATIOS: report.RatioSpec[] = MODES.map((m) => [
  ours(m),
  python(m),
  ">= 1x Python",
  (x: number) => x >= 1,
]);

async function runPeer(mode: Mode, ops: number, procs: number): Promise<number> {
  const args = ["--mode", mode, "--ops", String(ops), "--procs", String(procs)];
  const peer = await report.runPython<{ elapsed_ms: number; version: string }>(
    PY_SCRIPT,
    args,
    120_000,
  );
  return peer.elapsed_ms;
}

async function main(opts: Options): Promise<void> {
  const { ops, procs, rounds, warmup, pause } = opts;
  const py = await report.probePython(async () => {
    const peer = await report.runPython<{ version: string }>(PY_SCRIPT, ["--ops", "1000"]);
    return peer;
  });
  const variants: report.Variant[] = [];
  for (const mode of MODES) {
    variants.push({
      name: ours(mode),
      run: () => lockSample(mode, "worker", ops, procs),
      warm: () => lockSample(mode, "worker", Math.min(ops, 100_000), procs),
    });
    if (py) {
      variants.push({ name: python(mode), run: () => runPeer(mode, ops, procs), warm: null });
    }
  }
  const { samples, loadavg } = await report.measure(variants, opts);
  const stats = report.summarize(samples, (ms) => report.rates(ms, ops));
  const rs = report.ratios(stats, (r) => r.median, RATIOS);
  const info = report.runInfo(py, loadavg);
  report.printHeading(
    info,
    `${ops} operations, ${procs} children when shared, median of ${rounds} rounds`,
  );
  const format = (x: number) => Math.round(x).toLocaleString("en-US");
  const rows = Object.entries(stats).map(([name, r]) => [name, ...report.ratesRow(r, format)]);
  report.printTable(["variant", "ops/s med", "min", "max", "med ms", "spread"], rows);
  report.printRatios("ratios of median ops/s (higher is faster)", rs, 2);
  const json = report.ratesJson(stats, "ops_per_s");
  await report.writeJson(opts.json, info, { ops, procs, rounds, warmup, pause }, json, rs);
}

if (import.meta.main) {
  await main(report.parseFlags(Deno.args, DEFAULTS, FLAGS, USAGE));
}
