/**
 * A CPU-bound map over a pool, with a progress bar (`progress: true`):
 * counts the primes below 2,000,000 in 64 chunks.
 *
 * Run it with `deno run -A examples/pool_map.ts [workers]`.
 */
import { cpuCount, Pool } from "../mod.ts";

/** Counts the primes in [from, to): plain trial division, on purpose CPU-bound. */
export function countPrimes(from: number, to: number): number {
  let count = 0;
  for (let n = Math.max(from, 2); n < to; n++) {
    let prime = true;
    for (let d = 2; d * d <= n; d++) {
      if (n % d === 0) {
        prime = false;
        break;
      }
    }
    if (prime) count++;
  }
  return count;
}

/** One chunk: a `[from, to)` range. */
export function countRange(range: number[]): number {
  return countPrimes(range[0], range[1]);
}

if (import.meta.main) {
  const workers = Number(Deno.args[0] ?? cpuCount());
  const limit = 2_000_000, chunks = 64, step = limit / chunks;
  const ranges = Array.from({ length: chunks }, (_, i) => [i * step, (i + 1) * step]);
  await using pool = new Pool(workers);
  const t0 = performance.now();
  // A bar on stderr while it runs (count, rate, ETA), when stderr is a terminal.
  const counts = await pool.map(countRange, ranges, { chunksize: 1, progress: true });
  const total = counts.reduce((a, b) => a + b, 0);
  console.log(
    `${total} primes below ${limit} with ${workers} workers in ${
      (performance.now() - t0).toFixed(0)
    } ms`,
  );
}
