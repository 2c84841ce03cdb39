/**
 * The pool on uneven work (issue #15 items 2 and 3), side by side with
 * Python's `multiprocessing.Pool` (spawn), in one run:
 *
 *     PYTHON="env PYENV_VERSION=3.13.0 python3" deno run -A bench/pool_uneven.ts [--rounds R] [--warmup N] [--pause MS] [--json PATH]
 *       [--long-ms 3000] [--short-ms 100] [--shorts 30] [--burst 16] [--burst-ms 1000] [--items 10] [--every-ms 100]
 *
 * Three scenarios, each for both start methods and for Python
 * (py/pool_uneven.py does the same work and times itself the same way):
 *
 * - uneven: on a started `Pool(2)`, one task of `long-ms` then `shorts`
 *   tasks of `short-ms` (sleeps), all submitted at once; from the first
 *   submission to the last result. Target: at most 1.1x Python's time.
 * - burst: a new `Pool(burst)` given `burst` tasks of `burst-ms` at once;
 *   from the pool's creation to the last result (worker starts included),
 *   and how many workers ran them (target: every one). The time is
 *   reported against Python's: starting a Deno process costs more than
 *   starting a Python one, which is not this scheduler's doing.
 * - slowsource: `imap` on a started `Pool(2)` over a source that makes an
 *   item every `every-ms`; from the start of the iteration to the first
 *   result. Target: at most 1.1x Python's time.
 *
 * Rounds are interleaved (every variant once per round, in a fresh random
 * order); the report gives medians. The samples are in `_sched.ts`.
 *
 * @module
 */

import type { StartMethod } from "../process.ts";
import { burst, slowSource, startedPool, uneven } from "./_sched.ts";
import * as report from "./_report.ts";

interface Options extends report.RoundOptions {
  longMs: number;
  shortMs: number;
  shorts: number;
  burst: number;
  burstMs: number;
  items: number;
  everyMs: number;
}

const USAGE = "Usage: deno run -A bench/pool_uneven.ts [--rounds R] [--warmup N] [--pause MS] " +
  "[--json PATH] [--long-ms MS] [--short-ms MS] [--shorts N] [--burst N] [--burst-ms MS] " +
  "[--items N] [--every-ms MS]";
const FLAGS: Record<string, report.Flag<keyof Options>> = {
  "--long-ms": { key: "longMs", kind: "count", min: 1 },
  "--short-ms": { key: "shortMs", kind: "count", min: 1 },
  "--shorts": { key: "shorts", kind: "count", min: 1 },
  "--burst": { key: "burst", kind: "count", min: 1 },
  "--burst-ms": { key: "burstMs", kind: "count", min: 1 },
  "--items": { key: "items", kind: "count", min: 1 },
  "--every-ms": { key: "everyMs", kind: "count", min: 1 },
  ...report.ROUND_FLAGS,
};
const DEFAULTS: Options = {
  longMs: 3000,
  shortMs: 100,
  shorts: 30,
  burst: 16,
  burstMs: 1000,
  items: 10,
  everyMs: 100,
  rounds: 3,
  warmup: 0,
  pause: 200,
  json: undefined,
};
const PY_SCRIPT = report.peerScript("pool_uneven.py");
const METHODS: StartMethod[] = ["worker", "subprocess"];
const SCENARIOS = ["uneven", "burst", "slowsource"] as const;
type Scenario = typeof SCENARIOS[number];

/** What a sample measured besides its time: workers used (burst), total time (slowsource). */
const extra = new Map<string, number[]>();

function note(name: string, value: number): void {
  extra.set(name, [...extra.get(name) ?? [], value]);
}

async function ours(scenario: Scenario, method: StartMethod, o: Options): Promise<number> {
  const name = `${scenario} [${method}]`;
  if (scenario === "burst") {
    const r = await burst(o.burst, o.burstMs, method);
    note(name, r.workers);
    return r.ms;
  }
  await using pool = await startedPool(2, method);
  if (scenario === "uneven") return await uneven(pool, o.longMs, o.shortMs, o.shorts);
  const r = await slowSource(pool, o.items, o.everyMs);
  note(name, r.totalMs);
  return r.firstMs;
}

interface PeerResult {
  ms?: number;
  workers?: number;
  first_ms?: number;
  total_ms?: number;
  version: string;
}

async function python(scenario: Scenario, o: Options): Promise<PeerResult> {
  const args = [
    ["--scenario", scenario],
    ["--long-ms", o.longMs, "--short-ms", o.shortMs, "--shorts", o.shorts],
    ["--n", o.burst, "--ms", o.burstMs, "--items", o.items, "--every-ms", o.everyMs],
  ].flat().map(String);
  return await report.runPython<PeerResult>(PY_SCRIPT, args, 120_000);
}

async function pythonSample(scenario: Scenario, o: Options): Promise<number> {
  const r = await python(scenario, o);
  const name = `${scenario} Python`;
  if (scenario === "burst") note(name, r.workers!);
  if (scenario === "slowsource") note(name, r.total_ms!);
  return scenario === "slowsource" ? r.first_ms! : r.ms!;
}

function ratioSpecs(o: Options): report.RatioSpec[] {
  const specs: report.RatioSpec[] = [];
  for (const m of METHODS) {
    specs.push([`uneven [${m}]`, "uneven Python", "<= 1.1x Python's time", (x) => x <= 1.1]);
    specs.push([
      `slowsource [${m}]`,
      "slowsource Python",
      "<= 1.1x Python's time",
      (x) => x <= 1.1,
    ]);
    specs.push([
      `burst [${m}]`,
      "burst Python",
      `reported (all ${o.burst} workers used: below)`,
      null,
    ]);
  }
  return specs;
}

function printReport(stats: Record<string, report.Rates>, rs: report.Ratio[], o: Options): void {
  const rows = Object.entries(stats).map(([name, r]) => {
    const xs = extra.get(name) ?? [];
    const more = xs.length ? report.median(xs).toFixed(name.startsWith("burst") ? 0 : 1) : "";
    return [
      name,
      r.medianMs.toFixed(1),
      Math.min(...r.ms).toFixed(1),
      Math.max(...r.ms).toFixed(1),
      more,
    ];
  });
  report.printTable(["variant", "med ms", "min", "max", "workers | total ms"], rows);
  report.printRatios("ratios of median times (lower is faster)", rs, 3);
  console.log("\nburst: tasks on every worker (target: all of them)");
  for (const [name, xs] of extra) {
    if (!name.startsWith("burst")) continue;
    const ok = xs.every((w) => w === o.burst);
    console.log(`${name.padEnd(22)}  ${xs.join(", ").padStart(12)}  ${ok ? "PASS" : "MISS"}`);
  }
}

async function main(o: Options): Promise<void> {
  const py = await report.probePython(() => python("slowsource", { ...o, items: 2, everyMs: 1 }));
  const variants: report.Variant[] = [];
  for (const s of SCENARIOS) {
    for (const m of METHODS) {
      variants.push({
        name: `${s} [${m}]`,
        run: () => ours(s, m, o),
        warm: null,
      });
    }
    if (py) variants.push({ name: `${s} Python`, run: () => pythonSample(s, o), warm: null });
  }
  const { samples, loadavg } = await report.measure(variants, o);
  const stats = report.summarize(samples, (ms) => report.rates(ms, 1));
  // Lower is better here: the ratio of times is taken from the medians of ms.
  const rs = report.ratios(stats, (r) => r.medianMs, ratioSpecs(o));
  const info = report.runInfo(py, loadavg);
  report.printHeading(info, `uneven work, median of ${o.rounds} rounds`);
  printReport(stats, rs, o);
  const { rounds, warmup, pause } = o;
  const json = report.ratesJson(stats, "per_s");
  for (const [name, xs] of extra) Object.assign(json[name] ?? {}, { extra: xs });
  await report.writeJson(o.json, info, { rounds, warmup, pause }, json, rs);
}

if (import.meta.main) {
  await main(report.parseFlags(Deno.args, DEFAULTS, FLAGS, USAGE));
}
