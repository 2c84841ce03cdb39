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

import { queueRoundTrip, watchdogMs } from "./_queue.ts";

interface Options {
  items: number;
  rounds: number;
  warmup: number;
  /** Idle milliseconds before each sample. */
  pause: number;
  json: string | undefined;
}

interface Variant {
  name: string;
  /** One sample: milliseconds for `items` items. */
  run(items: number): Promise<number>;
}

interface Stats {
  median_items_per_s: number;
  min_items_per_s: number;
  max_items_per_s: number;
  median_ms: number;
  samples_items_per_s: number[];
  samples_ms: number[];
}

interface Ratio {
  name: string;
  value: number;
  target: string;
  pass: boolean | null;
}

const USAGE = "Usage: deno run -A bench/queue_throughput.ts " +
  "[--items N] [--rounds R] [--warmup N] [--pause MS] [--json PATH]";
const PY_SCRIPT = decodeURIComponent(
  new URL("./py/queue_throughput.py", import.meta.url).pathname,
);
const SUBPROCESS = "Queue [subprocess]";
const WORKER = "Queue [worker]";
const PYTHON = "Python mp.Queue spawn";
/** Items of a warm-up sample: enough to compile the hot paths. */
const WARMUP_ITEMS = 10_000;

function parseOptions(args: string[]): Options {
  const opts: Options = { items: 100_000, rounds: 3, warmup: 1, pause: 100, json: undefined };
  const flags = ["--items", "--rounds", "--warmup", "--pause", "--json"];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    const eq = arg.indexOf("=");
    const flag = eq < 0 ? arg : arg.slice(0, eq);
    const key = flag.slice(2);
    if (!flags.includes(flag)) throw new TypeError(`Unknown option ${flag}\n${USAGE}`);
    const value = eq < 0 ? args[++i] : arg.slice(eq + 1);
    if (key === "json") {
      if (!value) throw new TypeError(`--json needs a path\n${USAGE}`);
      opts.json = value;
      continue;
    }
    const n = Number(value);
    const min = key === "items" || key === "rounds" ? 1 : 0;
    if (!Number.isInteger(n) || n < min) {
      throw new RangeError(`${flag} must be an integer >= ${min}, received ${value}`);
    }
    opts[key as "items" | "rounds" | "warmup" | "pause"] = n;
  }
  return opts;
}

function pythonCommand(): string[] {
  return (Deno.env.get("PYTHON") ?? "python3").trim().split(/\s+/);
}

/** Runs the Python peer once; it times itself, excluding its own start. */
async function runPython(items: number): Promise<{ elapsed_ms: number; version: string }> {
  const [cmd, ...pre] = pythonCommand();
  const limit = watchdogMs(items);
  const out = await new Deno.Command(cmd, {
    args: [...pre, PY_SCRIPT, "--items", String(items)],
    stdin: "null",
    stdout: "piped",
    signal: AbortSignal.timeout(limit),
  }).output();
  if (out.signal === "SIGTERM") {
    throw new Error(`${pythonCommand().join(" ")} hung: no result after ${limit} ms`);
  }
  if (!out.success) {
    throw new Error(`${pythonCommand().join(" ")} exited with ${out.code}`);
  }
  const report = JSON.parse(new TextDecoder().decode(out.stdout));
  if (report.items !== items) {
    throw new Error(`Python moved ${report.items} items, not ${items}`);
  }
  return report;
}

/** The Python variant, or undefined (with a note) where Python cannot run. */
async function pythonVariant(): Promise<{ variant: Variant; version: string } | undefined> {
  let version: string;
  try {
    // Doubles as Python's warm-up: the first run reads (and may compile) its imports.
    ({ version } = await runPython(1000));
  } catch (err) {
    console.error(`Skipping Python: ${(err as Error).message}`);
    return undefined;
  }
  // One interpreter per sample keeps Python interleaved with the others.
  const run = async (items: number) => (await runPython(items)).elapsed_ms;
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
  // Warm-up: the first child of each method transpiles and caches its module
  // graph, and the parent's JIT has yet to compile the queue's hot paths.
  for (const v of variants) {
    if (v.name === PYTHON) continue; // warmed by its probe
    for (let i = 0; i < opts.warmup; i++) await v.run(Math.min(opts.items, WARMUP_ITEMS));
  }
  const samples = new Map(variants.map((v) => [v.name, [] as number[]]));
  for (let round = 0; round < opts.rounds; round++) {
    for (const v of shuffled(variants)) {
      // Lets the last sample's children finish exiting off the clock.
      await pause(opts.pause);
      samples.get(v.name)!.push(await v.run(opts.items));
    }
  }
  return samples;
}

function median(samples: number[]): number {
  const s = [...samples].sort((a, b) => a - b);
  const mid = (s.length - 1) / 2;
  return (s[Math.floor(mid)] + s[Math.ceil(mid)]) / 2;
}

function summarize(samples: Map<string, number[]>, items: number): Record<string, Stats> {
  const stats = (ms: number[]): Stats => {
    const rates = ms.map((t) => items / (t / 1000));
    return {
      median_items_per_s: median(rates),
      min_items_per_s: Math.min(...rates),
      max_items_per_s: Math.max(...rates),
      median_ms: median(ms),
      samples_items_per_s: rates,
      samples_ms: ms,
    };
  };
  return Object.fromEntries([...samples].map(([n, s]) => [n, stats(s)]));
}

function ratios(stats: Record<string, Stats>): Ratio[] {
  // [numerator, denominator, target, at least (null: reported, no target)]
  const specs: [string, string, string, number | null][] = [
    [SUBPROCESS, PYTHON, ">= 2x Python", 2],
    [WORKER, PYTHON, "none (reported)", null],
    [WORKER, SUBPROCESS, "none (reported)", null],
  ];
  const out: Ratio[] = [];
  for (const [num, den, target, atLeast] of specs) {
    if (!stats[num] || !stats[den]) continue;
    const value = stats[num].median_items_per_s / stats[den].median_items_per_s;
    const pass = atLeast === null ? null : value >= atLeast;
    out.push({ name: `${num} / ${den}`, value, target, pass });
  }
  return out;
}

function printReport(stats: Record<string, Stats>, rs: Ratio[]): void {
  const w = Math.max(...Object.keys(stats).map((n) => n.length));
  const num = (x: number) => Math.round(x).toLocaleString("en-US").padStart(9);
  console.log(`${"variant".padEnd(w)}   items/s med        min        max    med ms  spread`);
  for (const [name, s] of Object.entries(stats)) {
    const rates = [s.median_items_per_s, s.min_items_per_s, s.max_items_per_s].map(num);
    const spread = (s.max_items_per_s - s.min_items_per_s) / s.median_items_per_s;
    const cols = `${rates.join("  ")}  ${s.median_ms.toFixed(0).padStart(8)}`;
    console.log(`${name.padEnd(w)}  ${cols}  ${(spread * 100).toFixed(0).padStart(5)}%`);
  }
  if (rs.length === 0) return;
  const rw = Math.max(...rs.map((r) => r.name.length));
  console.log("\nratios of median items/s (higher is faster)");
  for (const r of rs) {
    const verdict = r.pass === null ? "    " : r.pass ? "PASS" : "MISS";
    const value = `${r.value.toFixed(2)}x`.padStart(7);
    console.log(`${r.name.padEnd(rw)}  ${value}  ${verdict}  target ${r.target}`);
  }
}

async function main(opts: Options): Promise<void> {
  const py = await pythonVariant();
  const variants: Variant[] = [
    { name: SUBPROCESS, run: (n) => queueRoundTrip("subprocess", n) },
    { name: WORKER, run: (n) => queueRoundTrip("worker", n) },
    ...(py ? [py.variant] : []),
  ];
  const load = Deno.loadavg()[0];
  const stats = summarize(await measure(variants, opts), opts.items);
  const rs = ratios(stats);
  const { items, rounds, warmup, pause } = opts;
  const meta = { deno: Deno.version.deno, python: py?.version ?? null };
  const env = { cpus: navigator.hardwareConcurrency, items, rounds, warmup, pause };
  const loadavg = [load, Deno.loadavg()[0]];
  console.log(
    `deno ${meta.deno}, python ${meta.python ?? "-"}, ${env.cpus} CPUs, ` +
      `${items} items {i, s:"x"}, median of ${rounds} rounds, ` +
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
