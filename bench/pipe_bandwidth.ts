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
 * Each side also runs with the child receiving into one buffer it reuses
 * (`recvBytesInto`, Python's `recv_bytes_into`): a message handed out to
 * keep is fresh memory, which costs Deno more than the copy (see
 * `_internal/wire/spare_buffers.ts`), while Python's allocator reuses the
 * last message's memory even for `recv_bytes`.
 *
 * Two more rows run the other way (`_pipe.ts`, `pipeUpSample`): the child
 * sends the same messages once pinged, and the parent receives each with
 * `recvBytesInto`, timed from the ping to the last message. Reported beside
 * Python's `recv_bytes_into` the first way (its pipe is the same both ways).
 *
 * The floor (`_pipe_floor.ts`) sends the same messages, framed as the
 * library frames them, over a bare Unix socket to a bare `deno run` child
 * that reads each into a fresh buffer of its own (what `recvBytes` hands
 * out), or into one buffer reused, and checks it the same way: the pipe is
 * reported as a fraction of it, and so is Python, since the target sits
 * against what the socket allows.
 *
 * The sample itself, and the child's target, are in `_pipe.ts`.
 *
 * @module
 */

import type { StartMethod } from "../process.ts";
import { pipeSample, pipeUpSample, watchdogMs } from "./_pipe.ts";
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
const SUBPROCESS = "Pipe [subprocess] recvBytes";
const WORKER = "Pipe [worker] recvBytes";
const PYTHON = "Python mp.Pipe spawn recv_bytes";
const FLOOR = "floor [subprocess]: bare socket, a fresh buffer per message";
const SUBPROCESS_INTO = "Pipe [subprocess] recvBytesInto";
const WORKER_INTO = "Pipe [worker] recvBytesInto";
const PYTHON_INTO = "Python mp.Pipe spawn recv_bytes_into";
const FLOOR_REUSE = "floor [subprocess]: bare socket, one buffer reused";
const UP_SUBPROCESS_INTO = "Pipe [subprocess] recvBytesInto, child to parent";
const UP_WORKER_INTO = "Pipe [worker] recvBytesInto, child to parent";
const MIB = 2 ** 20;
/** Messages of a warm-up sample: enough to compile the hot paths. */
const WARMUP_MESSAGES = 8;

const RATIOS: report.RatioSpec[] = [
  [SUBPROCESS, PYTHON, ">= 1.5x Python", (x) => x >= 1.5],
  [SUBPROCESS_INTO, PYTHON_INTO, ">= 1.5x Python", (x) => x >= 1.5],
  [SUBPROCESS_INTO, PYTHON, "none (reported)", null],
  [WORKER, PYTHON, "none (reported)", null],
  [WORKER_INTO, PYTHON_INTO, "none (reported)", null],
  [UP_SUBPROCESS_INTO, PYTHON_INTO, "none (reported)", null],
  [UP_WORKER_INTO, PYTHON_INTO, "none (reported)", null],
  [SUBPROCESS, FLOOR, "none (reported)", null],
  [SUBPROCESS_INTO, FLOOR_REUSE, "none (reported)", null],
  [PYTHON, FLOOR, "none (reported)", null],
  [PYTHON_INTO, FLOOR_REUSE, "none (reported)", null],
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
  into = false,
): Promise<{ elapsed_ms: number; version: string }> {
  const args = ["--count", String(count), "--size", String(size), ...(into ? ["--into"] : [])];
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
  into: boolean,
): report.Variant {
  return {
    name,
    run: () => pipeSample(startMethod, count, size, into),
    // The first child of each method transpiles and caches its module
    // graph, and the parent's JIT has yet to compile the pipe's hot paths.
    warm: () => pipeSample(startMethod, Math.min(count, WARMUP_MESSAGES), size, into),
  };
}

function upVariant(name: string, startMethod: StartMethod, count: number, size: number) {
  return {
    name,
    run: () => pipeUpSample(startMethod, count, size),
    warm: () => pipeUpSample(startMethod, Math.min(count, WARMUP_MESSAGES), size),
  };
}

function floorVariant(name: string, count: number, size: number, reuse: boolean): report.Variant {
  return {
    name,
    run: () => pipeFloorSample(count, size, reuse),
    warm: () => pipeFloorSample(Math.min(count, WARMUP_MESSAGES), size, reuse),
  };
}

/** Python's peer, one interpreter per sample (interleaved with the others). */
function peerVariant(name: string, count: number, size: number, into: boolean): report.Variant {
  return { name, run: async () => (await runPeer(count, size, into)).elapsed_ms, warm: null };
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
  // Its probe was its warm-up.
  const py = [peerVariant(PYTHON, count, size, false), peerVariant(PYTHON_INTO, count, size, true)];
  const variants: report.Variant[] = [
    pipeVariant(SUBPROCESS, "subprocess", count, size, false),
    pipeVariant(WORKER, "worker", count, size, false),
    pipeVariant(SUBPROCESS_INTO, "subprocess", count, size, true),
    pipeVariant(WORKER_INTO, "worker", count, size, true),
    upVariant(UP_SUBPROCESS_INTO, "subprocess", count, size),
    upVariant(UP_WORKER_INTO, "worker", count, size),
    floorVariant(FLOOR, count, size, false),
    floorVariant(FLOOR_REUSE, count, size, true),
    ...(python ? py : []),
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
