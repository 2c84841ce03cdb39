/**
 * `imapUnordered` and `imap` on a small and a large pool (issue #15 item 4),
 * in one run:
 *
 *     deno run -A bench/pool_unordered.ts [--tasks 5000] [--large 32] [--start-method worker]
 *       [--rounds R] [--warmup N] [--pause MS] [--json PATH]
 *
 * On a started `Pool(2)` and a started `Pool(large)`, `tasks` no-op tasks
 * through `imapUnordered` (and `imap`, reported), from the first item read
 * to the last result (after a warm-up of 2,000 of the same), with the
 * parent's JS heap sampled every 100 results.
 * Targets: `Pool(large)` within 20 % of `Pool(2)`'s throughput, and flat
 * memory: its peak heap growth at most twice `Pool(2)`'s, or 16 MiB.
 *
 * Rounds are interleaved (every variant once per round, in a fresh random
 * order); the report gives medians. The task function is in `_sched.ts`.
 *
 * @module
 */

import type { StartMethod } from "../process.ts";
import { noop, startedPool } from "./_sched.ts";
import * as report from "./_report.ts";

interface Options extends report.RoundOptions {
  tasks: number;
  large: number;
  startMethod: StartMethod;
}

const USAGE = "Usage: deno run -A bench/pool_unordered.ts [--tasks N] [--large N] " +
  "[--start-method worker|subprocess] [--rounds R] [--warmup N] [--pause MS] [--json PATH]";
const FLAGS: Record<string, report.Flag<keyof Options>> = {
  "--tasks": { key: "tasks", kind: "count", min: 1 },
  "--large": { key: "large", kind: "count", min: 2 },
  ...report.ROUND_FLAGS,
};
const DEFAULTS: Options = {
  tasks: 5_000,
  large: 32,
  startMethod: "worker",
  rounds: 3,
  warmup: 1,
  pause: 100,
  json: undefined,
};
const MiB = 1024 * 1024;
/** Tasks of the warm-up before the clock, as in _pool.ts. */
const WARMUP = 2_000;

/** Peak heap growth (MiB) per variant, one per sample. */
const growth = new Map<string, number[]>();

async function sample(
  name: string,
  processes: number,
  ordered: boolean,
  o: Options,
): Promise<number> {
  await using pool = await startedPool(processes, o.startMethod);
  // A warm-up of the same kind: the JIT compiles the hot paths, and the
  // pool measures the task before the clock starts (as _pool.ts does).
  const warm = ordered
    ? pool.imap(noop, Array(WARMUP).fill(0))
    : pool.imapUnordered(noop, Array(WARMUP).fill(0));
  for await (const _ of warm) { /* drained */ }
  const items = Array.from({ length: o.tasks }, (_, i) => i);
  const it = ordered ? pool.imap(noop, items) : pool.imapUnordered(noop, items);
  const base = Deno.memoryUsage().heapUsed;
  let peak = base, n = 0, sum = 0;
  const t0 = performance.now();
  for await (const x of it) {
    sum += x;
    if (++n % 100 === 0) peak = Math.max(peak, Deno.memoryUsage().heapUsed);
  }
  const ms = performance.now() - t0;
  if (n !== o.tasks || sum !== o.tasks * (o.tasks - 1) / 2) throw new Error("Wrong results");
  growth.set(name, [...growth.get(name) ?? [], (peak - base) / MiB]);
  return ms;
}

function flat(o: Options): string[] {
  const out: string[] = [];
  for (const kind of ["imapUnordered", "imap"]) {
    const small = report.median(growth.get(`${kind} Pool(2)`) ?? [NaN]);
    const large = report.median(growth.get(`${kind} Pool(${o.large})`) ?? [NaN]);
    const ok = large <= Math.max(2 * small, 16);
    const verdict = kind === "imap" ? "    " : ok ? "PASS" : "MISS";
    out.push(
      `${kind}: peak heap growth Pool(2) ${small.toFixed(1)} MiB, Pool(${o.large}) ${
        large.toFixed(1)
      } MiB  ${verdict}  target <= max(2x Pool(2), 16 MiB)`,
    );
  }
  return out;
}

async function main(o: Options): Promise<void> {
  const variants: report.Variant[] = [];
  for (const kind of ["imapUnordered", "imap"]) {
    for (const n of [2, o.large]) {
      const name = `${kind} Pool(${n})`;
      variants.push({ name, run: () => sample(name, n, kind === "imap", o), warm: null });
    }
  }
  const { samples, loadavg } = await report.measure(variants, o);
  const stats = report.summarize(samples, (ms) => report.rates(ms, o.tasks));
  const rs = report.ratios(stats, (r) => r.median, [
    [`imapUnordered Pool(${o.large})`, "imapUnordered Pool(2)", ">= 0.8x Pool(2)", (x) => x >= 0.8],
    [`imap Pool(${o.large})`, "imap Pool(2)", "none (reported)", null],
    [`imapUnordered Pool(2)`, "imap Pool(2)", "none (reported)", null],
  ]);
  const info = report.runInfo(undefined, loadavg);
  report.printHeading(
    info,
    `${o.tasks} no-op tasks [${o.startMethod}], median of ${o.rounds} rounds`,
  );
  const format = (x: number) => Math.round(x).toLocaleString("en-US");
  const rows = Object.entries(stats).map(([name, r]) => [
    name,
    ...report.ratesRow(r, format),
    report.median(growth.get(name)!).toFixed(1),
  ]);
  report.printTable(["variant", "tasks/s med", "min", "max", "med ms", "spread", "heap MiB"], rows);
  report.printRatios("ratios of median tasks/s (higher is faster)", rs, 2);
  console.log();
  for (const line of flat(o)) console.log(line);
  const json = report.ratesJson(stats, "tasks_per_s");
  for (const [name, g] of growth) Object.assign(json[name], { heap_growth_mib: g });
  const { tasks, large, rounds, warmup, pause } = o;
  await report.writeJson(o.json, info, { tasks, large, rounds, warmup, pause }, json, rs);
}

if (import.meta.main) {
  const args = [...Deno.args];
  const at = args.indexOf("--start-method");
  const method = at >= 0 ? args.splice(at, 2)[1] : "worker";
  if (method !== "worker" && method !== "subprocess") throw new TypeError(USAGE);
  const o = report.parseFlags(args, DEFAULTS, FLAGS, USAGE);
  await main({ ...o, startMethod: method });
}
