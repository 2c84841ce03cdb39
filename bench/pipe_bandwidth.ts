/**
 * Pipe bandwidth, parent -> child, side by side with Python's
 * `multiprocessing.Pipe()` (spawn), in one run:
 *
 *     deno run -A bench/pipe_bandwidth.ts [--mib 64] [--chunk-mib 1] [--rounds 3] [--warmup N] [--pause MS] [--json PATH]
 *     PYTHON="env PYENV_VERSION=3.13.0 python3" deno run -A bench/pipe_bandwidth.ts
 *
 * The parent sends `mib` MiB as messages of `chunk-mib` MiB (`sendBytes`,
 * one buffer, its index stamped in bytes 0-3 before each send); the child
 * receives them (`recvBytes`), checks each one's length, order and a few
 * sampled bytes, then sends back one small ack with its byte count and a
 * checksum of the sampled bytes, which the parent checks as well. The clock
 * runs from the first send to the ack; the child is started, and a ping has
 * made the round trip (both ends connected, the child's imports done),
 * before it starts. Python's peer (py/pipe_bandwidth.py) does the same with
 * `send_bytes`/`recv_bytes` and times itself the same way.
 *
 * `PYTHON` is a command, split on whitespace (default `python3`); where it
 * cannot run, Python is skipped with a note. Rounds are interleaved (every
 * variant once per round, in a fresh random order) so that machine noise
 * hits all variants alike; the report gives the median of the rounds.
 *
 * The floor (`_pipe_floor.ts`) sends the same messages, framed as the
 * library frames them, over a bare Unix socket to a bare `deno run` child
 * that reads each into a fresh buffer of its own (what `recvBytes` hands
 * out) and checks it the same way: the pipe is reported as a fraction of
 * it, and so is Python, since the target sits against what the socket allows.
 *
 * The sample itself, and the child's target, are in `_pipe.ts`.
 *
 * @module
 */

import type { StartMethod } from "../process.ts";
import { pipeSample, watchdogMs } from "./_pipe.ts";
import { pipeFloorSample } from "./_pipe_floor.ts";
import * as report from "./_report.ts";

interface Options extends report.RoundOptions {
  mib: number;
  chunkMib: number;
}

const USAGE = "Usage: deno run -A bench/pipe_bandwidth.ts " +
  "[--mib N] [--chunk-mib N] [--rounds R] [--warmup N] [--pause MS] [--json PATH]";
const FLAGS: Record<string, report.Flag<keyof Options>> = {
  "--mib": { key: "mib", kind: "positive" },
  "--chunk-mib": { key: "chunkMib", kind: "positive" },
  ...report.ROUND_FLAGS,
};
const DEFAULTS: Options = {
  mib: 64,
  chunkMib: 1,
  rounds: 3,
  warmup: 1,
  pause: 100,
  json: undefined,
};
const PY_SCRIPT = report.peerScript("pipe_bandwidth.py");
const SUBPROCESS = "Pipe [subprocess]";
const WORKER = "Pipe [worker]";
const PYTHON = "Python mp.Pipe spawn";
const FLOOR = "floor [subprocess]: bare socket, a fresh buffer per message";
const MIB = 2 ** 20;
/** Messages of a warm-up sample: enough to compile the hot paths. */
const WARMUP_MESSAGES = 8;

const RATIOS: report.RatioSpec[] = [
  [SUBPROCESS, PYTHON, ">= 1.5x Python", (x) => x >= 1.5],
  [WORKER, PYTHON, "none (reported)", null],
  [WORKER, SUBPROCESS, "none (reported)", null],
  [SUBPROCESS, FLOOR, "none (reported)", null],
  [PYTHON, FLOOR, "none (reported)", null],
];

function parseOptions(args: string[]): Options {
  const opts = report.parseFlags(args, DEFAULTS, FLAGS, USAGE);
  const size = opts.chunkMib * MIB;
  const count = opts.mib / opts.chunkMib;
  if (!Number.isInteger(size) || size < 16 || !Number.isInteger(count)) {
    throw new RangeError(
      `--mib must be a multiple of --chunk-mib, a whole number of bytes of at least 16, ` +
        `received --mib ${opts.mib} --chunk-mib ${opts.chunkMib}`,
    );
  }
  return opts;
}

/** Runs the Python peer once; it times itself, excluding its own start. */
async function runPeer(
  count: number,
  size: number,
): Promise<{ elapsed_ms: number; version: string }> {
  const args = ["--count", String(count), "--size", String(size)];
  const peer = await report.runPython<{ bytes: number; elapsed_ms: number; version: string }>(
    PY_SCRIPT,
    args,
    watchdogMs(count * size),
  );
  if (peer.bytes !== count * size) {
    throw new Error(`Python moved ${peer.bytes} bytes, not ${count * size}`);
  }
  return peer;
}

function pipeVariant(
  name: string,
  startMethod: StartMethod,
  count: number,
  size: number,
): report.Variant {
  return {
    name,
    run: () => pipeSample(startMethod, count, size),
    // The first child of each method transpiles and caches its module
    // graph, and the parent's JIT has yet to compile the pipe's hot paths.
    warm: () => pipeSample(startMethod, Math.min(count, WARMUP_MESSAGES), size),
  };
}

function printReport(stats: Record<string, report.Rates>, rs: report.Ratio[]): void {
  const format = (x: number) => x.toFixed(0);
  const rows = Object.entries(stats).map(([name, r]) => [name, ...report.ratesRow(r, format)]);
  report.printTable(["variant", "MiB/s med", "min", "max", "med ms", "spread"], rows);
  report.printRatios("ratios of median MiB/s (higher is faster)", rs, 2);
}

async function main(opts: Options): Promise<void> {
  const { mib, chunkMib, rounds, warmup, pause } = opts;
  const [count, size] = [mib / chunkMib, chunkMib * MIB];
  // Doubles as Python's warm-up: the first run reads (and may compile) its imports.
  const python = await report.probePython(() => runPeer(WARMUP_MESSAGES, size));
  // One interpreter per sample keeps Python interleaved with the others;
  // its probe was its warm-up.
  const py: report.Variant = {
    name: PYTHON,
    run: async () => (await runPeer(count, size)).elapsed_ms,
    warm: null,
  };
  const variants: report.Variant[] = [
    pipeVariant(SUBPROCESS, "subprocess", count, size),
    pipeVariant(WORKER, "worker", count, size),
    {
      name: FLOOR,
      run: () => pipeFloorSample(count, size),
      warm: () => pipeFloorSample(Math.min(count, WARMUP_MESSAGES), size),
    },
    ...(python ? [py] : []),
  ];
  const { samples, loadavg } = await report.measure(variants, opts);
  const stats = report.summarize(samples, (ms) => report.rates(ms, mib));
  const rs = report.ratios(stats, (r) => r.median, RATIOS);
  const info = report.runInfo(python, loadavg);
  report.printHeading(
    info,
    `${mib} MiB in ${count} messages of ${chunkMib} MiB, median of ${rounds} rounds`,
  );
  printReport(stats, rs);
  const params = { mib, chunk_mib: chunkMib, rounds, warmup, pause };
  await report.writeJson(opts.json, info, params, report.ratesJson(stats, "mib_per_s"), rs);
}

if (import.meta.main) {
  await main(parseOptions(Deno.args));
}
