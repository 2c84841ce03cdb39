/**
 * Manager proxies, side by side with Python's `multiprocessing.Manager()`
 * (spawn), in one run:
 *
 *     deno run -A bench/manager_throughput.ts [--items N] [--calls N] [--rounds R] [--warmup N] [--pause MS] [--json PATH]
 *     PYTHON="env PYENV_VERSION=3.13.0 python3" deno run -A bench/manager_throughput.ts
 *
 * - queue: a Pool task (1 worker) does N times `await q.put(i); await
 *   q.get()` on a manager queue; the task times its own loop. Python's peer
 *   does `q.put(i); q.get()` on `Manager().Queue()` in a `Pool` worker.
 * - stream: the same pool task does N puts, then N gets (ours: puts go in
 *   batches, gets fetch ahead; Python's: one round trip per call). Reported.
 * - dict: this process does N/2 times `await d.set("k", i); await
 *   d.get("k")` on a manager dict (N calls, one at a time); Python's peer
 *   does `d["k"] = i; d["k"]` on `Manager().dict()`.
 * - echo: N round trips of 20 bytes on a bare Unix socket to a Deno child
 *   that echoes them (`_echo.ts`): the floor under a call one at a time,
 *   which the dict's sequential calls are measured against.
 * - The dict's samples and the echo's first make the same calls untimed
 *   for 100 ms (`SETTLE_MS` in `_manager.ts`, which says why): what is
 *   timed is the steady state.
 * - dict, pipelined: N `d.set` calls, 100 in flight at a time (the client
 *   sends the calls of one turn in one frame). Python's proxies have no
 *   equivalent (a proxy call blocks its thread); reported against its
 *   sequential calls.
 *
 * One manager serves every Deno sample; Python starts one per sample (its
 * start is not timed). Rounds are interleaved in a fresh random order.
 * The samples are in `_manager.ts`.
 *
 * @module
 */

import { Manager } from "../manager.ts";
import { dictSample, pipelinedSample, queueSample, settled, streamTask } from "./_manager.ts";
import { startEcho } from "./_echo.ts";
import * as report from "./_report.ts";

interface Options extends report.RoundOptions {
  items: number;
  calls: number;
}

const USAGE = "Usage: deno run -A bench/manager_throughput.ts " +
  "[--items N] [--calls N] [--rounds R] [--warmup N] [--pause MS] [--json PATH]";
const FLAGS: Record<string, report.Flag<keyof Options>> = {
  "--items": { key: "items", kind: "count", min: 1 },
  "--calls": { key: "calls", kind: "count", min: 2 },
  ...report.ROUND_FLAGS,
};
const DEFAULTS: Options = {
  items: 5_000,
  calls: 10_000,
  rounds: 5,
  warmup: 1,
  pause: 100,
  json: undefined,
};
const PY_SCRIPT = report.peerScript("manager_throughput.py");
const Q_SUB = "queue rt, pool task [subprocess]";
const Q_WORKER = "queue rt, pool task [worker]";
const Q_PY = "Python Manager().Queue(), Pool worker";
const S_SUB = "queue stream, pool task [subprocess]";
const S_PY = "Python queue stream, Pool worker";
const D_SEQ = "dict calls, one at a time";
const D_PIPE = "dict calls, 100 in flight";
const D_PY = "Python Manager().dict() calls";
const ECHO = "bare socket echo (floor)";

const RATIOS: report.RatioSpec[] = [
  [Q_SUB, Q_PY, ">= 3x Python", (x) => x >= 3],
  [Q_WORKER, Q_PY, ">= 3x Python", (x) => x >= 3],
  [S_SUB, S_PY, "none (reported)", null],
  [D_SEQ, ECHO, ">= 0.85x the echo", (x) => x >= 0.85],
  [D_SEQ, D_PY, "none (reported)", null],
  [D_PIPE, D_PY, "none (reported)", null],
];

type Peer = { queue_ms?: number; stream_ms?: number; dict_ms?: number; version: string };

function runPeer(
  only: "queue" | "stream" | "dict",
  items: number,
  calls: number,
): Promise<Peer> {
  const args = ["--items", String(items), "--calls", String(calls / 2), "--only", only];
  return report.runPython<Peer>(PY_SCRIPT, args, 120_000);
}

async function main(opts: Options): Promise<void> {
  const { items, calls, rounds, warmup, pause } = opts;
  const python = await report.probePython(() => runPeer("dict", 10, 100));
  await using manager = await Manager.start();
  const echo = await startEcho();
  const variants: report.Variant[] = [
    { name: Q_SUB, run: () => queueSample(manager, "subprocess", items) },
    { name: Q_WORKER, run: () => queueSample(manager, "worker", items) },
    { name: S_SUB, run: () => queueSample(manager, "subprocess", items, streamTask) },
    { name: D_SEQ, run: () => dictSample(manager, calls) },
    { name: D_PIPE, run: () => pipelinedSample(manager, calls, 100) },
    { name: ECHO, run: () => settled(() => echo.trips(100), () => echo.trips(calls)) },
  ];
  if (python) {
    variants.push(
      { name: Q_PY, run: async () => (await runPeer("queue", items, calls)).queue_ms!, warm: null },
      {
        name: S_PY,
        run: async () => (await runPeer("stream", items, calls)).stream_ms!,
        warm: null,
      },
      { name: D_PY, run: async () => (await runPeer("dict", items, calls)).dict_ms!, warm: null },
    );
  }
  const { samples, loadavg } = await report.measure(variants, opts).finally(() => echo.close());
  const stats = report.summarize(samples, (ms) => ms);
  const perSecond = Object.fromEntries(
    Object.entries(stats).map(([name, ms]) => {
      const amount = name.includes("queue") || name === Q_PY ? items : calls;
      return [name, report.rates(ms, amount)];
    }),
  );
  const rs = report.ratios(perSecond, (r) => r.median, RATIOS);
  const info = report.runInfo(python, loadavg);
  report.printHeading(
    info,
    `${items} queue round trips, ${calls} dict calls, median of ${rounds} rounds`,
  );
  const format = (x: number) => Math.round(x).toLocaleString("en-US");
  const rows = Object.entries(perSecond).map(([name, r]) => [name, ...report.ratesRow(r, format)]);
  report.printTable(["variant", "per s med", "min", "max", "med ms", "spread"], rows);
  report.printRatios("ratios of median rates (higher is faster)", rs, 2);
  const json = report.ratesJson(perSecond, "per_s");
  await report.writeJson(opts.json, info, { items, calls, rounds, warmup, pause }, json, rs);
}

if (import.meta.main) {
  await main(report.parseFlags(Deno.args, DEFAULTS, FLAGS, USAGE));
}
