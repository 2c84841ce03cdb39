/**
 * Start-up of a `Process` (start, then join, of an empty target) side by side
 * with its floors and with Python's `multiprocessing` (spawn), in one run:
 *
 *     deno run -A bench/process_start.ts [--rounds N] [--warmup N] [--pause MS] [--json PATH]
 *     PYTHON="env PYENV_VERSION=3.13.0 python3" deno run -A bench/process_start.ts
 *
 * `PYTHON` is a command, split on whitespace (default `python3`). Rounds are
 * interleaved (every variant once per round, in a fresh random order) so
 * that machine noise hits all variants alike.
 *
 * @module
 */

import { processStartJoin, rawCommand, rawWorker } from "./_start.ts";

interface Options {
  rounds: number;
  warmup: number;
  /** Idle milliseconds before each sample. */
  pause: number;
  json: string | undefined;
}

interface Variant {
  name: string;
  /** One sample, in ms. */
  run(): Promise<number>;
}

interface Stats {
  median_ms: number;
  p90_ms: number;
  samples: number[];
}

interface Ratio {
  name: string;
  value: number;
  target: string;
  pass: boolean;
}

const USAGE = "Usage: deno run -A bench/process_start.ts " +
  "[--rounds N] [--warmup N] [--pause MS] [--json PATH]";
const PY_SCRIPT = decodeURIComponent(
  new URL("./py/process_start.py", import.meta.url).pathname,
);
const RAW_COMMAND = "raw Deno.Command (floor)";
const SUBPROCESS = "Process [subprocess]";
const RAW_WORKER = "raw Worker (floor)";
const WORKER = "Process [worker]";
const PYTHON = "Python spawn";

function parseOptions(args: string[]): Options {
  const opts: Options = { rounds: 20, warmup: 2, pause: 50, json: undefined };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    const eq = arg.indexOf("=");
    const flag = eq < 0 ? arg : arg.slice(0, eq);
    const key = flag.slice(2);
    if (!["--json", "--rounds", "--warmup", "--pause"].includes(flag)) {
      throw new TypeError(`Unknown option ${flag}\n${USAGE}`);
    }
    const value = eq < 0 ? args[++i] : arg.slice(eq + 1);
    if (key === "json") {
      if (!value) throw new TypeError(`--json needs a path\n${USAGE}`);
      opts.json = value;
      continue;
    }
    const n = Number(value);
    if (!Number.isInteger(n) || n < (key === "rounds" ? 1 : 0)) {
      throw new RangeError(`${flag} must be a count, received ${value}`);
    }
    opts[key as "rounds" | "warmup" | "pause"] = n;
  }
  return opts;
}

function timed(name: string, fn: () => Promise<void>): Variant {
  return {
    name,
    async run() {
      const t0 = performance.now();
      await fn();
      return performance.now() - t0;
    },
  };
}

function pythonCommand(): string[] {
  return (Deno.env.get("PYTHON") ?? "python3").trim().split(/\s+/);
}

/** Runs the Python peer; it times start+join itself, excluding its own start. */
async function runPython(
  rounds: number,
): Promise<{ samples: number[]; version: string }> {
  const [cmd, ...pre] = pythonCommand();
  const out = await new Deno.Command(cmd, {
    args: [...pre, PY_SCRIPT, "--rounds", String(rounds)],
    stdin: "null",
    stdout: "piped",
  }).output();
  if (!out.success) {
    throw new Error(`${pythonCommand().join(" ")} exited with ${out.code}`);
  }
  return JSON.parse(new TextDecoder().decode(out.stdout));
}

/** The Python variant, or undefined (with a note) where Python cannot run. */
async function pythonVariant(): Promise<
  { variant: Variant; version: string } | undefined
> {
  try {
    const { version } = await runPython(1);
    // One interpreter per sample keeps Python interleaved with the others.
    const run = async () => (await runPython(1)).samples[0];
    return { variant: { name: PYTHON, run }, version };
  } catch (err) {
    console.error(`Skipping Python: ${(err as Error).message}`);
    return undefined;
  }
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

async function measure(
  variants: Variant[],
  opts: Options,
): Promise<Map<string, number[]>> {
  // Warm-up compiles and caches each module graph: the first `deno run` of a
  // module pays for transpiling it, which no later start does.
  for (const v of variants) {
    for (let i = 0; i < opts.warmup; i++) await v.run();
  }
  const samples = new Map(variants.map((v) => [v.name, [] as number[]]));
  for (let round = 0; round < opts.rounds; round++) {
    for (const v of shuffled(variants)) {
      // A terminated worker's isolate is torn down on its own thread after
      // terminate() returns; on 2 cores that slows whatever starts next by
      // up to 10 ms. The pause lets such after-effects finish off the clock.
      await new Promise((resolve) => setTimeout(resolve, opts.pause));
      samples.get(v.name)!.push(await v.run());
    }
  }
  return samples;
}

/** Linear interpolation between closest ranks (numpy's default). */
function quantile(samples: number[], q: number): number {
  const s = [...samples].sort((a, b) => a - b);
  const pos = (s.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.min(lo + 1, s.length - 1);
  return s[lo] + (s[hi] - s[lo]) * (pos - lo);
}

function summarize(samples: Map<string, number[]>): Record<string, Stats> {
  const stats = (s: number[]): Stats => ({
    median_ms: quantile(s, 0.5),
    p90_ms: quantile(s, 0.9),
    samples: s,
  });
  return Object.fromEntries([...samples].map(([n, s]) => [n, stats(s)]));
}

function ratios(stats: Record<string, Stats>): Ratio[] {
  const specs: [string, string, string, number, boolean][] = [
    [SUBPROCESS, RAW_COMMAND, "<= 1.3x", 1.3, true],
    [WORKER, RAW_WORKER, "<= 1.5x", 1.5, true],
    [PYTHON, SUBPROCESS, "> 1x (faster than Python)", 1, false],
    [PYTHON, WORKER, "> 1x (faster than Python)", 1, false],
  ];
  const out: Ratio[] = [];
  for (const [num, den, target, limit, atMost] of specs) {
    if (!stats[num] || !stats[den]) continue;
    const value = stats[num].median_ms / stats[den].median_ms;
    const pass = atMost ? value <= limit : value > limit;
    out.push({ name: `${num} / ${den}`, value, target, pass });
  }
  return out;
}

function printReport(stats: Record<string, Stats>, rs: Ratio[]): void {
  const w = Math.max(...Object.keys(stats).map((n) => n.length));
  console.log(`${"variant".padEnd(w)}  median ms     p90 ms`);
  for (const [name, s] of Object.entries(stats)) {
    const cols = [s.median_ms, s.p90_ms].map((x) => x.toFixed(1).padStart(9));
    console.log(`${name.padEnd(w)}  ${cols.join("  ")}`);
  }
  const rw = Math.max(...rs.map((r) => r.name.length));
  console.log("\nratios of medians");
  for (const r of rs) {
    const verdict = r.pass ? "PASS" : "MISS";
    const value = `${r.value.toFixed(3)}x`.padStart(7);
    console.log(
      `${r.name.padEnd(rw)}  ${value}  ${verdict}  target ${r.target}`,
    );
  }
}

async function main(opts: Options): Promise<void> {
  const py = await pythonVariant();
  const variants = [
    timed(RAW_COMMAND, rawCommand),
    timed(SUBPROCESS, () => processStartJoin("subprocess")),
    timed(RAW_WORKER, rawWorker),
    timed(WORKER, () => processStartJoin("worker")),
    ...(py ? [py.variant] : []),
  ];
  const load = Deno.loadavg()[0];
  const stats = summarize(await measure(variants, opts));
  const rs = ratios(stats);
  const { rounds, warmup, pause } = opts;
  const meta = { deno: Deno.version.deno, python: py?.version ?? null };
  const env = { cpus: navigator.hardwareConcurrency, rounds, warmup, pause };
  const loadavg = [load, Deno.loadavg()[0]];
  console.log(
    `deno ${meta.deno}, python ${meta.python ?? "-"}, ${env.cpus} CPUs, ` +
      `${rounds} rounds, ${pause} ms pause, ` +
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
