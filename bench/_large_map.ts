// One sample of a large `map` (issue #15 items 5 and 10), run in a process
// of its own so that its peak memory is its own:
//
//     deno run -A bench/_large_map.ts --items N --chunksize C --start-method M
//
// (chunksize 0: Python's default.) On a started Pool(2), warmed up with a map
// of the same chunksize, `map(noop, items)` where items are 0..N-1; prints
// JSON {items, chunksize, elapsed_ms, peak_rss_mib, base_rss_mib}: the time
// from the call to the results (the input built before), this process's
// peak resident memory (VmHWM), and its resident memory before the input
// was built. Pool workers import this module for `noop`.

import { Pool } from "../pool.ts";
import type { StartMethod } from "../process.ts";

/** The task: as cheap as a task can be. */
export function noop(x: number): number {
  return x;
}

function status(field: string): number {
  const text = Deno.readTextFileSync("/proc/self/status");
  return Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(text)?.[1]) / 1024;
}

function arg(name: string, fallback: string): string {
  const at = Deno.args.indexOf(name);
  return at >= 0 ? Deno.args[at + 1] : fallback;
}

async function main(): Promise<void> {
  const items = Number(arg("--items", "1000000"));
  const chunksize = Number(arg("--chunksize", "0"));
  const startMethod = arg("--start-method", "subprocess") as StartMethod;
  const opts = chunksize > 0 ? { chunksize } : {};
  await using pool = new Pool({ processes: 2, module: import.meta.url, startMethod });
  const warm = Array.from({ length: 20_000 }, (_, i) => i);
  await pool.map(noop, warm, opts);
  const base = status("VmRSS");
  const input = Array.from({ length: items }, (_, i) => i);
  const t0 = performance.now();
  const out = await pool.map(noop, input, opts);
  const elapsed = performance.now() - t0;
  const peak = status("VmHWM");
  if (out.length !== items || out.some((x, i) => x !== i)) throw new Error("Wrong results");
  const report = {
    items,
    chunksize,
    elapsed_ms: elapsed,
    peak_rss_mib: peak,
    base_rss_mib: base,
  };
  console.log(JSON.stringify(report));
}

if (import.meta.main) await main();
