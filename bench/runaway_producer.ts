/**
 * A runaway producer (issue #12, item 3): a subprocess child puts small
 * items to an unbounded queue hosted here in a tight loop for `--seconds`,
 * while nothing here reads them. Printed as JSON: the child's peak resident
 * memory (VmHWM), the items that reached the queue here during the loop
 * (qsize), and this process's RSS growth.
 *
 *     deno run -A bench/runaway_producer.ts [--seconds 10]
 *
 * @module
 */

import { Process } from "../process.ts";
import { Queue } from "../queue.ts";

/** The child: puts `{ i, pad }` until `seconds` have passed (its only await is the put). */
export async function runaway(
  q: Queue<{ i: number; pad: string }>,
  seconds: number,
): Promise<void> {
  const pad = "x".repeat(64);
  const end = performance.now() + seconds * 1000;
  for (let i = 0; performance.now() < end; i++) await q.put({ i, pad });
  await new Promise(() => {}); // Killed from outside: nothing is flushed at exit.
}

function status(pid: number, field: string): number {
  const m = new RegExp(`${field}:\\s+(\\d+) kB`).exec(Deno.readTextFileSync(`/proc/${pid}/status`));
  return m ? Number(m[1]) * 1024 : NaN;
}

if (import.meta.main) {
  const i = Deno.args.indexOf("--seconds");
  const seconds = i >= 0 ? Number(Deno.args[i + 1]) : 10;
  const MiB = 2 ** 20;
  const rss0 = Deno.memoryUsage().rss;
  await using q = new Queue<{ i: number; pad: string }>();
  const p = new Process({ target: runaway, args: [q, seconds], module: import.meta.url });
  await p.start();
  const t0 = performance.now();
  let arrived = 0;
  while (performance.now() - t0 < seconds * 1000) {
    await new Promise((r) => setTimeout(r, 250));
    arrived = await q.qsize();
  }
  const hwm = status(p.pid!, "VmHWM");
  p.kill();
  await p.join();
  console.log(JSON.stringify({
    seconds,
    producer_peak_rss_mib: hwm / MiB,
    items_arrived_during_loop: arrived,
    host_rss_growth_mib: (Deno.memoryUsage().rss - rss0) / MiB,
  }));
}
