/**
 * CPU-bound scaling of `Pool`, side by side with Python's: the same pure
 * integer work split into 64 equal chunks (equal, so that a perfect
 * scheduler reaches 100% at any worker count: 64 chunks of growing cost
 * capped it at 88.9% on 16 workers), run with 1 worker and then with more,
 * up to `cpuCount()` (or `--max N`), for each start method and Python's
 * `Pool`. Prints the median time of `--rounds` rounds (each runs every
 * variant once, Python first), the time of one chunk on 1 worker, the
 * speedup over 1 worker and the efficiency (speedup / workers); targets:
 * at least 90% of the ideal speedup, and at least Python's efficiency at
 * the same count. Pool start-up is outside the timing: every worker (on
 * both sides) has run a task first, one that sleeps, so that neither pool
 * has measured `mix` before the timed map.
 *
 *     deno run -A bench/pool_scaling.ts [--rounds N] [--work N] [--max N] [--json PATH]
 *     PYTHON="env PYENV_VERSION=3.13.0 python3" deno run -A bench/pool_scaling.ts
 *
 * `--work` is the rounds of `mix` in one chunk for Deno; Python, about 90x
 * slower per round here, gets 1/90 of it, so that a chunk takes about as
 * long on both sides (about 20 ms here): what a task costs the pool besides
 * its work (a message each way, a wake-up of each side) then weighs the
 * same on both. With 1/50, Python's chunks ran 36 ms to our 20.
 *
 * One sample of each is not a comparison on 2 busy cores: Python's
 * efficiency at 2 workers ranged 93-100% in six runs of 64 chunks of 20 ms.
 *
 * @module
 */

import { cpuCount, Pool, type StartMethod } from "../mod.ts";
import * as report from "./_report.ts";
import { mix, whoAfter } from "./_targets.ts";

const MODULE = new URL("./_targets.ts", import.meta.url).href;
const CHUNKS = 64;
const PY_SLOWER = 90;

/**
 * Returns once every worker of `pool` has run a task. Not a warm-up map of
 * `mix` on small arguments: the pool learns from it that `mix` takes a few
 * µs, sends all 64 chunks to the first worker in one batch, and the second
 * one waits for the first chunk to end to be given its share (measured:
 * 24 ms of a 690 ms run); nor a warm-up of `workers * 2` tasks at once,
 * which the first worker up may take alone.
 */
async function everyWorkerUp(pool: Pool, workers: number): Promise<void> {
  for (let tries = 0; tries < 100; tries++) {
    const ids = await pool.map(whoAfter, Array(workers * 2).fill(20), { chunksize: 1 });
    if (new Set(ids).size === workers) return;
  }
  throw new Error(`Not every pool worker started after 100 tries`);
}

async function timeRun(method: StartMethod, workers: number, rounds: number): Promise<number> {
  await using pool = new Pool({ processes: workers, startMethod: method, module: MODULE });
  await everyWorkerUp(pool, workers);
  const t0 = performance.now();
  const sums = await pool.map(mix, Array(CHUNKS).fill(rounds), { chunksize: 1 });
  const ms = performance.now() - t0;
  if (sums.some((s) => s !== mix(rounds))) throw new Error("Wrong result");
  return ms;
}

async function python(counts: number[], work: number): Promise<Map<number, number> | undefined> {
  const args = [
    "--rounds-per-chunk",
    String(Math.max(1, Math.round(work / PY_SLOWER))),
    "--chunks",
    String(CHUNKS),
    "--workers",
    counts.join(","),
  ];
  try {
    const out = await report.runPython<{ results: { workers: number; ms: number }[] }>(
      report.peerScript("pool_scaling.py"),
      args,
    );
    return new Map(out.results.map((r) => [r.workers, r.ms]));
  } catch (err) {
    console.error(`Skipping Python: ${(err as Error).message}`);
    return undefined;
  }
}

/** The floor: the same chunks run one after another in this thread, no pool. */
function timeInline(rounds: number): number {
  const sums: number[] = [];
  const t0 = performance.now();
  for (let i = 0; i < CHUNKS; i++) sums.push(mix(rounds));
  const ms = performance.now() - t0;
  if (sums.some((s) => s !== sums[0])) throw new Error("Wrong result");
  return ms;
}

/** Per side, per worker count: the milliseconds of each round. */
type Samples = Map<string, Map<number, number[]>>;

function record(samples: Samples, side: string, n: number, ms: number): void {
  const bySide = samples.get(side) ?? samples.set(side, new Map()).get(side)!;
  (bySide.get(n) ?? bySide.set(n, []).get(n)!).push(ms);
}

/** The median of each worker count's rounds. */
function medians(bySide: Map<number, number[]> | undefined): Map<number, number> | undefined {
  return bySide && new Map([...bySide].map(([n, ms]) => [n, report.median(ms)]));
}

function efficiencyRows(
  name: string,
  times: Map<number, number>,
  py?: Map<number, number>,
): string[][] {
  const base = times.get(1)!;
  const pyBase = py?.get(1);
  return [...times].map(([n, ms]) => {
    const eff = base / ms / n;
    const pyEff = py && pyBase ? pyBase / py.get(n)! / n : undefined;
    const pass = n === 1
      ? ""
      : eff >= 0.9 && (pyEff === undefined || eff >= pyEff)
      ? "PASS"
      : "MISS";
    return [
      name,
      String(n),
      ms.toFixed(0),
      n === 1 ? (ms / CHUNKS).toFixed(1) : "",
      (base / ms).toFixed(2),
      `${(eff * 100).toFixed(0)}%`,
      pass,
    ];
  });
}

async function main(): Promise<void> {
  const usage = "usage: deno run -A bench/pool_scaling.ts [--rounds N] [--work N] [--max N] " +
    "[--json PATH]";
  const o = report.parseFlags(Deno.args, {
    rounds: 3,
    work: 20_000_000,
    max: cpuCount(),
    json: undefined as string | undefined,
  }, {
    "--rounds": { key: "rounds", kind: "count", min: 1 },
    "--work": { key: "work", kind: "count", min: 1 },
    "--max": { key: "max", kind: "count", min: 1 },
    "--json": { key: "json", kind: "path" },
  }, usage);
  const counts = [...new Set([1, 2, 4, 8, 16, o.max].filter((n) => n <= o.max))].sort((a, b) =>
    a - b
  );
  console.log(
    `deno ${Deno.version.deno}, ${cpuCount()} CPUs, ${CHUNKS} equal chunks of ${o.work} rounds ` +
      `(Python: ${Math.round(o.work / PY_SLOWER)}), median of ${o.rounds} rounds`,
  );
  const methods: StartMethod[] = ["worker", "subprocess"];
  const samples: Samples = new Map();
  let withPython = true;
  for (let r = 0; r < o.rounds; r++) {
    const round: Map<number, number> | undefined = withPython
      ? await python(counts, o.work)
      : undefined;
    withPython = round !== undefined;
    for (const [n, ms] of round ?? []) record(samples, "python", n, ms);
    for (const method of methods) {
      for (const n of counts) record(samples, method, n, await timeRun(method, n, o.work));
    }
    record(samples, "inline", 1, timeInline(o.work));
  }
  const py = medians(samples.get("python"));
  const rows: string[][] = [];
  for (const method of methods) {
    rows.push(...efficiencyRows(`Pool [${method}]`, medians(samples.get(method))!, py));
  }
  if (py) {
    rows.push(...efficiencyRows("Python Pool (spawn)", py).map((r) => [...r.slice(0, 6), ""]));
  }
  const inline = medians(samples.get("inline"))!.get(1)!;
  rows.push([
    "chunks inline, no pool",
    "1",
    inline.toFixed(0),
    (inline / CHUNKS).toFixed(1),
    "",
    "",
    "",
  ]);
  report.printTable(
    ["pool", "workers", "ms", "chunk ms", "speedup", "efficiency", "vs 90% and Python"],
    rows,
  );
  if (o.json) {
    const results = Object.fromEntries(
      [...samples].map(([side, bySide]) => [side, Object.fromEntries(bySide)]),
    );
    await Deno.writeTextFile(
      o.json,
      JSON.stringify(
        { work: o.work, pythonWork: Math.round(o.work / PY_SLOWER), results },
        null,
        2,
      ),
    );
  }
}

if (import.meta.main) await main();
