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
 * The sample itself, and the child's target, are in `_pipe.ts`.
 *
 * @module
 */

import { pipeSample, watchdogMs } from "./_pipe.ts";

interface Options {
  mib: number;
  chunkMib: number;
  rounds: number;
  warmup: number;
  /** Idle milliseconds before each sample. */
  pause: number;
  json: string | undefined;
}

interface Variant {
  name: string;
  /** One sample: milliseconds for `count` messages of `size` bytes. */
  run(count: number, size: number): Promise<number>;
}

interface Stats {
  median_mib_per_s: number;
  min_mib_per_s: number;
  max_mib_per_s: number;
  median_ms: number;
  samples_mib_per_s: number[];
  samples_ms: number[];
}

interface Ratio {
  name: string;
  value: number;
  target: string;
  pass: boolean | null;
}

const USAGE = "Usage: deno run -A bench/pipe_bandwidth.ts " +
  "[--mib N] [--chunk-mib N] [--rounds R] [--warmup N] [--pause MS] [--json PATH]";
const PY_SCRIPT = decodeURIComponent(new URL("./py/pipe_bandwidth.py", import.meta.url).pathname);
const SUBPROCESS = "Pipe [subprocess]";
const WORKER = "Pipe [worker]";
const PYTHON = "Python mp.Pipe spawn";
const MIB = 2 ** 20;
/** Messages of a warm-up sample: enough to compile the hot paths. */
const WARMUP_MESSAGES = 8;

function parseOptions(args: string[]): Options {
  const opts: Options = { mib: 64, chunkMib: 1, rounds: 3, warmup: 1, pause: 100, json: undefined };
  const keys: Record<string, keyof Options> = {
    "--mib": "mib",
    "--chunk-mib": "chunkMib",
    "--rounds": "rounds",
    "--warmup": "warmup",
    "--pause": "pause",
    "--json": "json",
  };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    const eq = arg.indexOf("=");
    const flag = eq < 0 ? arg : arg.slice(0, eq);
    const key = keys[flag];
    if (!key) throw new TypeError(`Unknown option ${flag}\n${USAGE}`);
    const value = eq < 0 ? args[++i] : arg.slice(eq + 1);
    if (key === "json") {
      if (!value) throw new TypeError(`--json needs a path\n${USAGE}`);
      opts.json = value;
      continue;
    }
    const n = Number(value);
    const sized = key === "mib" || key === "chunkMib";
    if (sized ? !(n > 0) : !Number.isInteger(n) || n < (key === "rounds" ? 1 : 0)) {
      throw new RangeError(`${flag} must be ${sized ? "positive" : "a count"}, received ${value}`);
    }
    opts[key as Exclude<keyof Options, "json">] = n;
  }
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

function pythonCommand(): string[] {
  return (Deno.env.get("PYTHON") ?? "python3").trim().split(/\s+/);
}

/** Runs the Python peer once; it times itself, excluding its own start. */
async function runPython(
  count: number,
  size: number,
): Promise<{ elapsed_ms: number; version: string }> {
  const [cmd, ...pre] = pythonCommand();
  const limit = watchdogMs(count * size);
  const out = await new Deno.Command(cmd, {
    args: [...pre, PY_SCRIPT, "--count", String(count), "--size", String(size)],
    stdin: "null",
    stdout: "piped",
    signal: AbortSignal.timeout(limit),
  }).output();
  if (out.signal === "SIGTERM") {
    throw new Error(`${pythonCommand().join(" ")} hung: no result after ${limit} ms`);
  }
  if (!out.success) throw new Error(`${pythonCommand().join(" ")} exited with ${out.code}`);
  const report = JSON.parse(new TextDecoder().decode(out.stdout));
  if (report.bytes !== count * size) {
    throw new Error(`Python moved ${report.bytes} bytes, not ${count * size}`);
  }
  return report;
}

/** The Python variant, or undefined (with a note) where Python cannot run. */
async function pythonVariant(size: number): Promise<
  { variant: Variant; version: string } | undefined
> {
  let version: string;
  try {
    // Doubles as Python's warm-up: the first run reads (and may compile) its imports.
    ({ version } = await runPython(WARMUP_MESSAGES, size));
  } catch (err) {
    console.error(`Skipping Python: ${(err as Error).message}`);
    return undefined;
  }
  // One interpreter per sample keeps Python interleaved with the others.
  const run = async (count: number, size: number) => (await runPython(count, size)).elapsed_ms;
  return { variant: { name: PYTHON, run }, version };
}

/** A random order per round: no variant always follows the same neighbour. */
function shuffled<T>(items: T[]): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function measure(variants: Variant[], opts: Options): Promise<Map<string, number[]>> {
  const size = opts.chunkMib * MIB;
  const count = opts.mib / opts.chunkMib;
  // Warm-up: the first child of each method transpiles and caches its module
  // graph, and the parent's JIT has yet to compile the pipe's hot paths.
  for (const v of variants) {
    if (v.name === PYTHON) continue; // warmed by its probe
    for (let i = 0; i < opts.warmup; i++) await v.run(Math.min(count, WARMUP_MESSAGES), size);
  }
  const samples = new Map(variants.map((v) => [v.name, [] as number[]]));
  for (let round = 0; round < opts.rounds; round++) {
    for (const v of shuffled(variants)) {
      // Lets the last sample's children finish exiting off the clock.
      await pause(opts.pause);
      samples.get(v.name)!.push(await v.run(count, size));
    }
  }
  return samples;
}

function median(samples: number[]): number {
  const s = [...samples].sort((a, b) => a - b);
  const mid = (s.length - 1) / 2;
  return (s[Math.floor(mid)] + s[Math.ceil(mid)]) / 2;
}

function summarize(samples: Map<string, number[]>, mib: number): Record<string, Stats> {
  const stats = (ms: number[]): Stats => {
    const rates = ms.map((t) => mib / (t / 1000));
    return {
      median_mib_per_s: median(rates),
      min_mib_per_s: Math.min(...rates),
      max_mib_per_s: Math.max(...rates),
      median_ms: median(ms),
      samples_mib_per_s: rates,
      samples_ms: ms,
    };
  };
  return Object.fromEntries([...samples].map(([n, s]) => [n, stats(s)]));
}

function ratios(stats: Record<string, Stats>): Ratio[] {
  // [numerator, denominator, target, at least (null: reported, no target)]
  const specs: [string, string, string, number | null][] = [
    [SUBPROCESS, PYTHON, ">= 1x Python", 1],
    [WORKER, PYTHON, "none (reported)", null],
    [WORKER, SUBPROCESS, "none (reported)", null],
  ];
  const out: Ratio[] = [];
  for (const [num, den, target, atLeast] of specs) {
    if (!stats[num] || !stats[den]) continue;
    const value = stats[num].median_mib_per_s / stats[den].median_mib_per_s;
    const pass = atLeast === null ? null : value >= atLeast;
    out.push({ name: `${num} / ${den}`, value, target, pass });
  }
  return out;
}

function printReport(stats: Record<string, Stats>, rs: Ratio[]): void {
  const w = Math.max(...Object.keys(stats).map((n) => n.length));
  const num = (x: number) => x.toFixed(0).padStart(7);
  console.log(`${"variant".padEnd(w)}   MiB/s med      min      max    med ms  spread`);
  for (const [name, s] of Object.entries(stats)) {
    const rates = [s.median_mib_per_s, s.min_mib_per_s, s.max_mib_per_s].map(num);
    const spread = (s.max_mib_per_s - s.min_mib_per_s) / s.median_mib_per_s;
    const cols = `${rates.join("  ")}  ${s.median_ms.toFixed(0).padStart(8)}`;
    console.log(`${name.padEnd(w)}      ${cols}  ${(spread * 100).toFixed(0).padStart(5)}%`);
  }
  if (rs.length === 0) return;
  const rw = Math.max(...rs.map((r) => r.name.length));
  console.log("\nratios of median MiB/s (higher is faster)");
  for (const r of rs) {
    const verdict = r.pass === null ? "    " : r.pass ? "PASS" : "MISS";
    const value = `${r.value.toFixed(2)}x`.padStart(7);
    console.log(`${r.name.padEnd(rw)}  ${value}  ${verdict}  target ${r.target}`);
  }
}

async function main(opts: Options): Promise<void> {
  const py = await pythonVariant(opts.chunkMib * MIB);
  const variants: Variant[] = [
    { name: SUBPROCESS, run: (count, size) => pipeSample("subprocess", count, size) },
    { name: WORKER, run: (count, size) => pipeSample("worker", count, size) },
    ...(py ? [py.variant] : []),
  ];
  const load = Deno.loadavg()[0];
  const stats = summarize(await measure(variants, opts), opts.mib);
  const rs = ratios(stats);
  const { mib, chunkMib, rounds, warmup, pause } = opts;
  const meta = { deno: Deno.version.deno, python: py?.version ?? null };
  const env = {
    cpus: navigator.hardwareConcurrency,
    mib,
    chunk_mib: chunkMib,
    rounds,
    warmup,
    pause,
  };
  const loadavg = [load, Deno.loadavg()[0]];
  console.log(
    `deno ${meta.deno}, python ${meta.python ?? "-"}, ${env.cpus} CPUs, ` +
      `${mib} MiB in ${mib / chunkMib} messages of ${chunkMib} MiB, median of ${rounds} rounds, ` +
      `load avg ${loadavg.map((l) => l.toFixed(2)).join(" -> ")}\n`,
  );
  printReport(stats, rs);
  if (opts.json) {
    const report = { ...meta, ...env, loadavg, variants: stats, ratios: rs };
    await Deno.writeTextFile(opts.json, JSON.stringify(report, null, 2) + "\n");
  }
}

if (import.meta.main) {
  await main(parseOptions(Deno.args));
}
