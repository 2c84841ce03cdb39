/**
 * CPU-bound scaling of `Pool`: a fixed pure-JS workload (counting primes
 * below a bound) split into 64 chunks, run with 1 worker and then with more,
 * up to `cpuCount()` (or `--max N`), for each start method. Prints the time,
 * speedup over 1 worker and efficiency (speedup / workers). Pool start-up
 * is outside the timing: each pool does a warm-up task first.
 *
 * `deno run -A bench/pool_scaling.ts [--limit 3000000] [--max N] [--json PATH]`
 */

import { cpuCount, Pool, type StartMethod } from "../mod.ts";
import * as report from "./_report.ts";
// The workload is the example's: prime counting by trial division.
import { countRange } from "../examples/pool_map.ts";

const MODULE = new URL("../examples/pool_map.ts", import.meta.url).href;

const CHUNKS = 64;

async function timeRun(
  method: StartMethod,
  workers: number,
  limit: number,
): Promise<[number, number]> {
  const step = limit / CHUNKS;
  const ranges = Array.from({ length: CHUNKS }, (_, i) => [i * step, (i + 1) * step]);
  await using pool = new Pool({ processes: workers, startMethod: method, module: MODULE });
  // Every worker up before the clock starts.
  await pool.map(countRange, Array.from({ length: workers * 2 }, () => [0, 10]), { chunksize: 1 });
  const t0 = performance.now();
  const counts = await pool.map(countRange, ranges, { chunksize: 1 });
  const ms = performance.now() - t0;
  return [ms, counts.reduce((a, b) => a + b, 0)];
}

async function main(): Promise<void> {
  const o = report.parseFlags(Deno.args, {
    limit: 3_000_000,
    max: cpuCount(),
    json: undefined as string | undefined,
  }, {
    "--limit": { key: "limit", kind: "count", min: CHUNKS },
    "--max": { key: "max", kind: "count", min: 1 },
    "--json": { key: "json", kind: "path" },
  }, "usage: deno run -A bench/pool_scaling.ts [--limit N] [--max N] [--json PATH]");
  const counts = [...new Set([1, 2, 4, 8, 16, o.max].filter((n) => n <= o.max))].sort((a, b) =>
    a - b
  );
  console.log(
    `deno ${Deno.version.deno}, ${cpuCount()} CPUs, primes below ${o.limit} in ${CHUNKS} chunks`,
  );
  const rows: string[][] = [];
  const results: Record<string, unknown>[] = [];
  for (const method of ["worker", "subprocess"] as StartMethod[]) {
    let base = 0, expected = -1;
    for (const n of counts) {
      const [ms, total] = await timeRun(method, n, o.limit);
      if (expected >= 0 && total !== expected) {
        throw new Error(`Wrong result: ${total} != ${expected}`);
      }
      expected = total;
      if (n === 1) base = ms;
      const speedup = base / ms;
      rows.push([
        method,
        String(n),
        ms.toFixed(0),
        speedup.toFixed(2),
        `${(speedup / n * 100).toFixed(0)}%`,
      ]);
      results.push({ method, workers: n, ms, speedup, efficiency: speedup / n });
    }
  }
  report.printTable(["start method", "workers", "ms", "speedup", "efficiency"], rows);
  console.log(`target: efficiency >= 90% at ${o.max} workers`);
  if (o.json) {
    await Deno.writeTextFile(o.json, JSON.stringify({ limit: o.limit, results }, null, 2));
  }
}

if (import.meta.main) await main();
