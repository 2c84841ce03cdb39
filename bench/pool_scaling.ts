/**
 * CPU-bound scaling of `Pool`, side by side with Python's: the same pure
 * integer work split into 64 equal chunks (equal, so that a perfect
 * scheduler reaches 100% at any worker count: 64 chunks of growing cost
 * capped it at 88.9% on 16 workers), run with 1 worker and then with more,
 * up to `cpuCount()` (or `--max N`), for each start method and Python's
 * `Pool`. Prints the time, the speedup over 1 worker and the efficiency
 * (speedup / workers); targets: at least 90% of the ideal speedup, and at
 * least Python's efficiency at the same count. Pool start-up is outside the
 * timing: every worker runs a warm-up task first.
 *
 *     deno run -A bench/pool_scaling.ts [--rounds N] [--max N] [--json PATH]
 *     PYTHON="env PYENV_VERSION=3.13.0 python3" deno run -A bench/pool_scaling.ts
 *
 * `--rounds` is the work of one chunk for Deno (Python, ~50x slower per
 * round here, gets 1/50 of it: efficiency is a ratio within each side).
 *
 * @module
 */

import { cpuCount, Pool, type StartMethod } from "../mod.ts";
import * as report from "./_report.ts";
import { mix } from "./_targets.ts";

const MODULE = new URL("./_targets.ts", import.meta.url).href;
const CHUNKS = 64;
const PY_SLOWER = 50;

async function timeRun(method: StartMethod, workers: number, rounds: number): Promise<number> {
  await using pool = new Pool({ processes: workers, startMethod: method, module: MODULE });
  await pool.map(mix, Array(workers * 2).fill(10), { chunksize: 1 });
  const t0 = performance.now();
  const sums = await pool.map(mix, Array(CHUNKS).fill(rounds), { chunksize: 1 });
  const ms = performance.now() - t0;
  if (sums.some((s) => s !== mix(rounds))) throw new Error("Wrong result");
  return ms;
}

async function python(counts: number[], rounds: number): Promise<Map<number, number> | undefined> {
  const args = [
    "--rounds-per-chunk",
    String(Math.max(1, Math.round(rounds / PY_SLOWER))),
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
      (base / ms).toFixed(2),
      `${(eff * 100).toFixed(0)}%`,
      pass,
    ];
  });
}

async function main(): Promise<void> {
  const o = report.parseFlags(Deno.args, {
    rounds: 20_000_000,
    max: cpuCount(),
    json: undefined as string | undefined,
  }, {
    "--rounds": { key: "rounds", kind: "count", min: 1 },
    "--max": { key: "max", kind: "count", min: 1 },
    "--json": { key: "json", kind: "path" },
  }, "usage: deno run -A bench/pool_scaling.ts [--rounds N] [--max N] [--json PATH]");
  const counts = [...new Set([1, 2, 4, 8, 16, o.max].filter((n) => n <= o.max))].sort((a, b) =>
    a - b
  );
  console.log(
    `deno ${Deno.version.deno}, ${cpuCount()} CPUs, ${CHUNKS} equal chunks of ${o.rounds} rounds`,
  );
  const rows: string[][] = [];
  const results: Record<string, unknown> = {};
  const py = await python(counts, o.rounds);
  for (const method of ["worker", "subprocess"] as StartMethod[]) {
    const times = new Map<number, number>();
    for (const n of counts) times.set(n, await timeRun(method, n, o.rounds));
    rows.push(...efficiencyRows(`Pool [${method}]`, times, py));
    results[method] = Object.fromEntries(times);
  }
  if (py) {
    rows.push(...efficiencyRows("Python Pool (spawn)", py).map((r) => [...r.slice(0, 5), ""]));
    results.python = Object.fromEntries(py);
  }
  report.printTable(["pool", "workers", "ms", "speedup", "efficiency", "vs 90% and Python"], rows);
  if (o.json) {
    await Deno.writeTextFile(o.json, JSON.stringify({ rounds: o.rounds, results }, null, 2));
  }
}

if (import.meta.main) await main();
