// Samples of the pool's scheduling (issue #15), for the side-by-side scripts
// pool_uneven.ts, pool_signal.ts and pool_unordered.ts. Pool workers import
// this module for its task functions, so it starts nothing at its top level.

import { Pool } from "../pool.ts";
import type { StartMethod } from "../process.ts";

/** The module the workers import for the task functions: this one. */
export const MODULE: string = import.meta.url;

/** This module's instance: each worker (thread or process) imports its own. */
const INSTANCE = crypto.randomUUID();

/** The task of the throughput samples: as cheap as a task can be. */
export function noop(x: number): number {
  return x;
}

/** Sleeps `ms` (as an I/O-bound task does), then says which worker ran it. */
export async function sleepMs(ms: number): Promise<string> {
  await new Promise((resolve) => setTimeout(resolve, ms));
  return INSTANCE;
}

/** Peak resident memory of this process so far, in MiB (Linux's VmHWM), or NaN. */
export function peakRssMiB(): number {
  try {
    const status = Deno.readTextFileSync("/proc/self/status");
    const kib = Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1]);
    return kib / 1024;
  } catch {
    return NaN;
  }
}

/** A pool whose every worker has run a task (all started, this module imported). */
export async function startedPool(processes: number, startMethod: StartMethod): Promise<Pool> {
  const pool = new Pool({ processes, module: MODULE, startMethod });
  for (let tries = 0; tries < 500; tries++) {
    const ids = await pool.map(sleepMs, Array(processes * 2).fill(20), { chunksize: 1 });
    if (new Set(ids).size >= processes) return pool;
  }
  pool.terminate();
  throw new Error(`Not every pool worker started after 500 tries`);
}

/**
 * Item 3's uneven workload on a started pool: one task of `longMs`, then
 * `shorts` tasks of `shortMs`, all submitted at once. Milliseconds from the
 * first submission to the last result.
 */
export async function uneven(
  pool: Pool,
  longMs: number,
  shortMs: number,
  shorts: number,
): Promise<number> {
  const t0 = performance.now();
  const all = [longMs, ...Array(shorts).fill(shortMs)].map((ms) => pool.applyAsync(sleepMs, [ms]));
  await Promise.all(all);
  return performance.now() - t0;
}

/**
 * Item 3 right after start: `n` tasks of `ms` given to a new pool of `n`
 * workers at once. Milliseconds from the pool's creation to the last
 * result, and how many workers ran them.
 */
export async function burst(
  n: number,
  ms: number,
  startMethod: StartMethod,
): Promise<{ ms: number; workers: number }> {
  const t0 = performance.now();
  await using pool = new Pool({ processes: n, module: MODULE, startMethod });
  const ids = await pool.map(sleepMs, Array(n).fill(ms), { chunksize: 1 });
  return { ms: performance.now() - t0, workers: new Set(ids).size };
}

/**
 * Item 2: `imap` over a source that makes an item every `everyMs`, on a
 * started pool. Milliseconds from the start of the iteration to the first
 * result, and to the last.
 */
export async function slowSource(
  pool: Pool,
  items: number,
  everyMs: number,
): Promise<{ firstMs: number; totalMs: number }> {
  async function* source(): AsyncGenerator<number> {
    for (let i = 0; i < items; i++) {
      await new Promise((resolve) => setTimeout(resolve, everyMs));
      yield i;
    }
  }
  const t0 = performance.now();
  let firstMs = NaN, n = 0;
  for await (const x of pool.imap(noop, source())) {
    if (x !== n++) throw new Error(`imap yielded ${x} for item ${n - 1}`);
    if (n === 1) firstMs = performance.now() - t0;
  }
  if (n !== items) throw new Error(`imap yielded ${n} results for ${items} items`);
  return { firstMs, totalMs: performance.now() - t0 };
}
