/**
 * Pool throughput, many no-op tasks on a started pool, side by side with
 * piscina (Node's worker-thread pool) and Python's `multiprocessing.Pool`
 * (spawn), in one run:
 *
 *     deno run -A bench/pool_throughput.ts [--tasks N] [--processes N] [--rounds R] [--warmup N] [--pause MS] [--json PATH]
 *     PYTHON="env PYENV_VERSION=3.13.0 python3" deno run -A bench/pool_throughput.ts
 *
 * A pool of `processes` workers runs `tasks` no-op tasks (`noop(i)`, which
 * returns i), submitted two ways: `applyAsync` for each task, then all
 * awaited (`apply`), or one `map` with chunksize 1 (`map`). The clock runs
 * from the first submission to the last result; every worker has run a task
 * (so all are started), and a warm-up of the same mode has run, before it
 * starts. Every result is checked, in order, and so their sum. The peers do
 * the same and time themselves the same way: py/pool_throughput.py
 * (`Pool.map(noop, range(N), chunksize=1)`, and `apply_async` for each
 * task then `.get()` on each) and node/pool_throughput.mjs (`piscina.run(i)`
 * for each task, awaited with `Promise.all`; piscina has no `map`).
 *
 * `PYTHON` is a command, split on whitespace (default `python3`); where it
 * cannot run, Python is skipped with a note. piscina runs on `node` (20 or
 * later); where bench/node/node_modules lacks it, it is installed with
 * `npm install --prefix bench/node --no-save piscina@4` (which leaves
 * package.json as it is and writes no lock file); where node or npm fails,
 * piscina is skipped with a note. Rounds are interleaved (every variant once
 * per round, in a fresh random order) so that machine noise hits all
 * variants alike; the report gives the median of the rounds.
 *
 * The floor variants (`_pool_floor.ts`) run the same tasks on bare workers
 * of each start method's backend, echoing batches of 64 in the library's
 * encoding over a Unix socket with nothing of the library in between; the
 * pool's `map` is reported as a fraction of its method's floor.
 *
 * The sample itself, and the task functions, are in `_pool.ts`.
 *
 * @module
 */

import type { StartMethod } from "../process.ts";
import { type Mode, poolSample, watchdogMs } from "./_pool.ts";
import { floorSample } from "./_pool_floor.ts";
import * as report from "./_report.ts";

interface Options extends report.RoundOptions {
  tasks: number;
  processes: number;
}

const USAGE = "Usage: deno run -A bench/pool_throughput.ts " +
  "[--tasks N] [--processes N] [--rounds R] [--warmup N] [--pause MS] [--json PATH]";
const FLAGS: Record<string, report.Flag<keyof Options>> = {
  "--tasks": { key: "tasks", kind: "count", min: 1 },
  "--processes": { key: "processes", kind: "count", min: 1 },
  ...report.ROUND_FLAGS,
};
const DEFAULTS: Options = {
  tasks: 20_000,
  processes: 2,
  rounds: 5,
  warmup: 1,
  pause: 100,
  json: undefined,
};
const PY_SCRIPT = report.peerScript("pool_throughput.py");
const NODE_DIR = decodeURIComponent(new URL("./node/", import.meta.url).pathname);
const NODE_SCRIPT = `${NODE_DIR}pool_throughput.mjs`;
const NPM_INSTALL = ["install", "--prefix", NODE_DIR, "--no-save", "piscina@4"];

const WORKER_APPLY = "Pool [worker] applyAsync";
const WORKER_MAP = "Pool [worker] map";
const SUBPROCESS_APPLY = "Pool [subprocess] applyAsync";
const SUBPROCESS_MAP = "Pool [subprocess] map";
const FLOOR_WORKER = "floor [worker]: bare threads, batches of 64";
const FLOOR_SUBPROCESS = "floor [subprocess]: bare processes, batches of 64";
const PISCINA = "piscina run (node)";
const PYTHON_APPLY = "Python apply_async spawn";
const PYTHON_MAP = "Python map spawn";
/** Tasks of a probe run of a peer, which doubles as its warm-up. */
const PROBE_TASKS = 1_000;
/** Milliseconds npm may take to install piscina. */
const NPM_TIMEOUT_MS = 180_000;

const RATIOS: report.RatioSpec[] = [
  [WORKER_APPLY, PISCINA, ">= 2x piscina", (x) => x >= 2],
  [WORKER_MAP, PISCINA, "none (reported)", null],
  [WORKER_MAP, FLOOR_WORKER, ">= 0.7x its floor", (x) => x >= 0.7],
  [WORKER_MAP, PYTHON_MAP, ">= 5x Python", (x) => x >= 5],
  [WORKER_APPLY, PYTHON_APPLY, "none (reported)", null],
  [SUBPROCESS_MAP, FLOOR_SUBPROCESS, "none (reported)", null],
  [SUBPROCESS_MAP, PYTHON_MAP, ">= 3x Python", (x) => x >= 3],
  [SUBPROCESS_APPLY, PYTHON_APPLY, ">= 2x Python", (x) => x >= 2],
  [WORKER_MAP, SUBPROCESS_MAP, "none (reported)", null],
];

/** What a peer prints: it times itself, excluding its own start and its pool's. */
interface PeerResult {
  tasks: number;
  elapsed_ms: number;
  sum: number;
  version: string;
}

function checkPeer(who: string, peer: PeerResult, tasks: number): PeerResult {
  const sum = tasks * (tasks - 1) / 2;
  if (peer.tasks !== tasks || peer.sum !== sum) {
    throw new Error(
      `${who} ran ${peer.tasks} tasks summing to ${peer.sum}, not ${tasks} to ${sum}`,
    );
  }
  return peer;
}

/** Runs the Python peer once. */
async function runPython(mode: Mode, tasks: number, processes: number): Promise<PeerResult> {
  const args = ["--mode", mode, "--tasks", String(tasks), "--processes", String(processes)];
  const peer = await report.runPython<PeerResult>(PY_SCRIPT, args, watchdogMs(tasks));
  return checkPeer("Python", peer, tasks);
}

/** Runs `cmd` and returns its stdout; rejects with its stderr's last lines where it fails. */
async function command(cmd: string, args: string[], timeoutMs: number): Promise<string> {
  let out: Deno.CommandOutput;
  try {
    out = await new Deno.Command(cmd, {
      args,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      signal: AbortSignal.timeout(timeoutMs),
    }).output();
  } catch (err) {
    throw new Error(`${cmd} cannot run: ${(err as Error).message}`);
  }
  if (out.signal === "SIGTERM") throw new Error(`${cmd} hung: no result after ${timeoutMs} ms`);
  if (!out.success) {
    const tail = new TextDecoder().decode(out.stderr).trim().split("\n").slice(-3).join("\n");
    throw new Error(`${cmd} exited with ${out.code}${tail ? `:\n${tail}` : ""}`);
  }
  return new TextDecoder().decode(out.stdout);
}

/** Installs piscina under bench/node where it is missing. */
async function ensurePiscina(): Promise<void> {
  try {
    await Deno.stat(`${NODE_DIR}node_modules/piscina/package.json`);
    return;
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) throw err;
  }
  console.error(`Installing piscina: npm ${NPM_INSTALL.join(" ")}`);
  await command("npm", NPM_INSTALL, NPM_TIMEOUT_MS);
}

/** Runs the Node peer once. */
async function runNode(
  tasks: number,
  threads: number,
): Promise<PeerResult & { piscina: string }> {
  const args = [NODE_SCRIPT, "--tasks", String(tasks), "--threads", String(threads)];
  const peer = JSON.parse(await command("node", args, watchdogMs(tasks)));
  // Deno.Command runs Deno itself for `node` where none is on PATH.
  if (peer.deno) throw new Error(`node is Deno ${peer.deno} here (no node on PATH), not Node`);
  return { ...checkPeer("piscina", peer, tasks), piscina: peer.piscina };
}

/** Installs and probes piscina once: Node's and piscina's versions, or undefined (with a note). */
async function probeNode(threads: number): Promise<{ node: string; piscina: string } | undefined> {
  try {
    await ensurePiscina();
    const { version, piscina } = await runNode(PROBE_TASKS, threads);
    return { node: version, piscina };
  } catch (err) {
    console.error(`Skipping piscina: ${(err as Error).message}`);
    return undefined;
  }
}

function poolVariant(
  name: string,
  startMethod: StartMethod,
  mode: Mode,
  opts: Options,
): report.Variant {
  return {
    name,
    run: () => poolSample(startMethod, mode, opts.tasks, opts.processes),
    // The first worker of each method transpiles and caches its module
    // graph; a full sample also lets the parent's JIT compile the pool's
    // hot paths at this size.
  };
}

/** A peer run once per sample (one interpreter each keeps it interleaved); its probe warmed it. */
function peerVariant(name: string, run: () => Promise<PeerResult>): report.Variant {
  return { name, run: async () => (await run()).elapsed_ms, warm: null };
}

function printReport(stats: Record<string, report.Rates>, rs: report.Ratio[]): void {
  const format = (x: number) => Math.round(x).toLocaleString("en-US");
  const rows = Object.entries(stats).map(([name, r]) => [name, ...report.ratesRow(r, format)]);
  report.printTable(["variant", "tasks/s med", "min", "max", "med ms", "spread"], rows);
  report.printRatios("ratios of median tasks/s (higher is faster)", rs, 2);
}

async function main(opts: Options): Promise<void> {
  const { tasks, processes, rounds, warmup, pause } = opts;
  // Double as the peers' warm-ups: a first run reads (and may compile) its imports.
  const python = await report.probePython(() => runPython("map", PROBE_TASKS, processes));
  const node = await probeNode(processes);
  const variants: report.Variant[] = [
    poolVariant(WORKER_APPLY, "worker", "apply", opts),
    poolVariant(WORKER_MAP, "worker", "map", opts),
    poolVariant(SUBPROCESS_APPLY, "subprocess", "apply", opts),
    poolVariant(SUBPROCESS_MAP, "subprocess", "map", opts),
    { name: FLOOR_WORKER, run: () => floorSample("worker", tasks, processes) },
    { name: FLOOR_SUBPROCESS, run: () => floorSample("subprocess", tasks, processes) },
    ...(node ? [peerVariant(PISCINA, () => runNode(tasks, processes))] : []),
    ...(python
      ? [
        peerVariant(PYTHON_APPLY, () => runPython("apply", tasks, processes)),
        peerVariant(PYTHON_MAP, () => runPython("map", tasks, processes)),
      ]
      : []),
  ];
  const { samples, loadavg } = await report.measure(variants, opts);
  const stats = report.summarize(samples, (ms) => report.rates(ms, tasks));
  const rs = report.ratios(stats, (r) => r.median, RATIOS);
  const info = report.runInfo(python, loadavg);
  const peers = node ? `, node ${node.node} piscina ${node.piscina}` : "";
  report.printHeading(
    info,
    `${tasks} no-op tasks on ${processes} workers, chunksize 1${peers}, median of ${rounds} rounds`,
  );
  printReport(stats, rs);
  const json: Record<string, unknown> = report.ratesJson(stats, "tasks_per_s");
  if (node) json[PISCINA] = { ...json[PISCINA] as object, ...node };
  await report.writeJson(opts.json, info, { tasks, processes, rounds, warmup, pause }, json, rs);
}

if (import.meta.main) {
  await main(report.parseFlags(Deno.args, DEFAULTS, FLAGS, USAGE));
}
