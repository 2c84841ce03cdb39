/**
 * `map` of a million small items (issue #15 items 5 and 10), side by side
 * with Python's `multiprocessing.Pool` (spawn), in one run:
 *
 *     PYTHON="env PYENV_VERSION=3.13.0 python3" deno run -A bench/pool_large_map.ts
 *       [--items 1000000] [--rounds R] [--pause MS] [--json PATH]
 *
 * On a started `Pool(2)`, `map(noop, items)` with Python's default
 * chunksize and with chunksize 1, both start methods and Python
 * (py/pool_large_map.py). Each sample runs in a process of its own
 * (`_large_map.ts`), so that its peak resident memory is its own; it times
 * itself from the call to the results. Targets: at least Python's
 * throughput, and at most 1.5x its parent's peak memory (subprocess
 * workers; worker-method workers are threads of the parent, so their
 * memory counts in its own: reported).
 *
 * Rounds are interleaved (every variant once per round, in a fresh random
 * order); the report gives medians.
 *
 * @module
 */

import * as report from "./_report.ts";

interface Options extends report.RoundOptions {
  items: number;
}

const USAGE = "Usage: deno run -A bench/pool_large_map.ts [--items N] [--rounds R] " +
  "[--pause MS] [--json PATH]";
const FLAGS: Record<string, report.Flag<keyof Options>> = {
  "--items": { key: "items", kind: "count", min: 1 },
  ...report.ROUND_FLAGS,
};
const DEFAULTS: Options = { items: 1_000_000, rounds: 3, warmup: 0, pause: 500, json: undefined };
const PY_SCRIPT = report.peerScript("pool_large_map.py");
const SAMPLE = new URL("./_large_map.ts", import.meta.url).pathname;
const WATCHDOG_MS = 600_000;

/** What a sample prints. */
interface Sample {
  items: number;
  elapsed_ms: number;
  peak_rss_mib: number;
  base_rss_mib: number;
  version?: string;
}

/** Peak memory (MiB) per variant, one per sample. */
const peaks = new Map<string, number[]>();

async function ours(method: string, chunksize: number, items: number): Promise<Sample> {
  const args = ["run", "-A", SAMPLE, "--items", String(items), "--chunksize", String(chunksize)];
  const out = await new Deno.Command(Deno.execPath(), {
    args: [...args, "--start-method", method],
    stdin: "null",
    stdout: "piped",
    signal: AbortSignal.timeout(WATCHDOG_MS),
  }).output();
  if (!out.success) throw new Error(`${SAMPLE} failed (exit ${out.code})`);
  return JSON.parse(new TextDecoder().decode(out.stdout));
}

function python(chunksize: number, items: number): Promise<Sample> {
  const args = ["--items", String(items), "--chunksize", String(chunksize)];
  return report.runPython<Sample>(PY_SCRIPT, args, WATCHDOG_MS);
}

function variant(name: string, run: () => Promise<Sample>, items: number): report.Variant {
  return {
    name,
    warm: null,
    run: async () => {
      const s = await run();
      if (s.items !== items) throw new Error(`${name} mapped ${s.items} items, not ${items}`);
      peaks.set(name, [...peaks.get(name) ?? [], s.peak_rss_mib]);
      return s.elapsed_ms;
    },
  };
}

const KINDS = [["default chunksize", 0], ["chunksize 1", 1]] as const;

function specs(): report.RatioSpec[] {
  return KINDS.flatMap(([kind]) =>
    [
      [`map ${kind} [subprocess]`, `Python map ${kind}`, ">= 1x Python", (x: number) => x >= 1],
      [`map ${kind} [worker]`, `Python map ${kind}`, ">= 1x Python", (x: number) => x >= 1],
    ] as report.RatioSpec[]
  );
}

function printMemory(): void {
  console.log("\npeak resident memory of the parent, MiB (median)");
  for (const [kind] of KINDS) {
    const py = report.median(peaks.get(`Python map ${kind}`) ?? [NaN]);
    for (const m of ["subprocess", "worker"]) {
      const ours = report.median(peaks.get(`map ${kind} [${m}]`) ?? [NaN]);
      const x = ours / py;
      const verdict = m === "worker" ? "    " : x <= 1.5 ? "PASS" : "MISS";
      const target = m === "worker" ? "reported (workers are threads of the parent)" : "<= 1.5x";
      console.log(
        `${`map ${kind} [${m}]`.padEnd(32)} ${ours.toFixed(0).padStart(5)}  Python ${
          py.toFixed(0).padStart(5)
        }  ${x.toFixed(2)}x  ${verdict}  target ${target}`,
      );
    }
  }
}

async function main(o: Options): Promise<void> {
  const py = await report.probePython(async () => ({ version: (await python(0, 1000)).version! }));
  const variants: report.Variant[] = [];
  for (const [kind, chunksize] of KINDS) {
    for (const m of ["subprocess", "worker"]) {
      variants.push(variant(`map ${kind} [${m}]`, () => ours(m, chunksize, o.items), o.items));
    }
    if (py) variants.push(variant(`Python map ${kind}`, () => python(chunksize, o.items), o.items));
  }
  const { samples, loadavg } = await report.measure(variants, o);
  const stats = report.summarize(samples, (ms) => report.rates(ms, o.items));
  const rs = report.ratios(stats, (r) => r.median, specs());
  const info = report.runInfo(py, loadavg);
  report.printHeading(
    info,
    `map of ${o.items} no-op items on 2 workers, median of ${o.rounds} rounds`,
  );
  const format = (x: number) => Math.round(x).toLocaleString("en-US");
  const rows = Object.entries(stats).map(([name, r]) => [
    name,
    ...report.ratesRow(r, format),
    report.median(peaks.get(name)!).toFixed(0),
  ]);
  report.printTable(["variant", "items/s med", "min", "max", "med ms", "spread", "peak MiB"], rows);
  report.printRatios("ratios of median items/s (higher is faster)", rs, 2);
  printMemory();
  const json = report.ratesJson(stats, "items_per_s");
  for (const [name, p] of peaks) Object.assign(json[name], { peak_rss_mib: p });
  const { items, rounds, pause } = o;
  await report.writeJson(o.json, info, { items, rounds, pause }, json, rs);
}

if (import.meta.main) {
  await main(report.parseFlags(Deno.args, DEFAULTS, FLAGS, USAGE));
}
