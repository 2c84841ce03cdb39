// What the side-by-side scripts share: options, the Python peer, rounds,
// statistics, the report; and their samples' watchdog and disposal errors.
// Children import the sample modules, so this one starts nothing at its top.

/** The options every side-by-side script takes. */
export interface RoundOptions {
  /** Rounds of samples: every variant once per round. */
  rounds: number;
  /** Warm-up runs of every variant, before the rounds. */
  warmup: number;
  /** Idle milliseconds before each sample. */
  pause: number;
  /** Where to write the report as JSON, if anywhere. */
  json: string | undefined;
}

/** One flag: the option it sets, and what its value must be. */
export interface Flag<K extends string> {
  key: K;
  /** `path`: not empty; `count`: an integer of at least `min`; `positive`: a number > 0. */
  kind: "path" | "count" | "positive";
  /** The least `count`. @default 0 */
  min?: number;
}

/** The flags of {@link RoundOptions}. */
export const ROUND_FLAGS: Record<string, Flag<keyof RoundOptions>> = {
  "--rounds": { key: "rounds", kind: "count", min: 1 },
  "--warmup": { key: "warmup", kind: "count" },
  "--pause": { key: "pause", kind: "count" },
  "--json": { key: "json", kind: "path" },
};

/**
 * Parses `--flag value` and `--flag=value` arguments over `defaults`.
 * @throws {TypeError} On an unknown flag or a missing path; {RangeError} on a bad number.
 */
export function parseFlags<T extends object>(
  args: string[],
  defaults: T,
  flags: Record<string, Flag<keyof T & string>>,
  usage: string,
): T {
  const opts = { ...defaults } as Record<string, unknown>;
  for (let i = 0; i < args.length; i++) {
    const eq = args[i].indexOf("=");
    const flag = eq < 0 ? args[i] : args[i].slice(0, eq);
    const spec = Object.hasOwn(flags, flag) ? flags[flag] : undefined;
    if (!spec) throw new TypeError(`Unknown option ${flag}\n${usage}`);
    const value = eq < 0 ? args[++i] : args[i].slice(eq + 1);
    if (spec.kind === "path") {
      if (!value) throw new TypeError(`${flag} needs a path\n${usage}`);
      opts[spec.key] = value;
      continue;
    }
    const n = Number(value);
    const min = spec.min ?? 0;
    if (spec.kind === "positive" && !(n > 0)) {
      throw new RangeError(`${flag} must be positive, received ${value}`);
    }
    if (spec.kind === "count" && (!Number.isInteger(n) || n < min)) {
      throw new RangeError(`${flag} must be an integer >= ${min}, received ${value}`);
    }
    opts[spec.key] = n;
  }
  return opts as T;
}

/** The path of a Python peer script in `bench/py/`. */
export function peerScript(name: string): string {
  return decodeURIComponent(new URL(`./py/${name}`, import.meta.url).pathname);
}

/**
 * Runs a peer script with `PYTHON` (a command, split on whitespace; `python3` by default)
 * and parses the JSON it prints, unchecked.
 * @param timeoutMs Where given, a run that takes longer is stopped and counts as hung.
 * @throws {Error} When Python exits with an error or hangs.
 */
export async function runPython<T>(script: string, args: string[], timeoutMs?: number): Promise<T> {
  const python = (Deno.env.get("PYTHON") ?? "python3").trim().split(/\s+/);
  const [cmd, ...pre] = python;
  const out = await new Deno.Command(cmd, {
    args: [...pre, script, ...args],
    stdin: "null",
    stdout: "piped",
    signal: timeoutMs === undefined ? undefined : AbortSignal.timeout(timeoutMs),
  }).output();
  if (timeoutMs !== undefined && out.signal === "SIGTERM") {
    throw new Error(`${python.join(" ")} hung: no result after ${timeoutMs} ms`);
  }
  if (!out.success) throw new Error(`${python.join(" ")} exited with ${out.code}`);
  return JSON.parse(new TextDecoder().decode(out.stdout));
}

/** Runs `probe` once: Python's version, or undefined (with a note) where it cannot run. */
export async function probePython(
  probe: () => Promise<{ version: string }>,
): Promise<string | undefined> {
  try {
    return (await probe()).version;
  } catch (err) {
    console.error(`Skipping Python: ${(err as Error).message}`);
    return undefined;
  }
}

/** One variant of a side-by-side script. */
export interface Variant {
  name: string;
  /** One sample, in milliseconds. */
  run(): Promise<number>;
  /** One warm-up run; `null` where the variant needs none. @default run */
  warm?: (() => Promise<unknown>) | null;
}

/** A random order per round: no variant always follows the same neighbour. */
export function shuffled<T>(items: T[]): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

/** Resolves after `ms` milliseconds. */
export function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Warms every variant up, then samples every variant once per round, in a
 * fresh random order (so that machine noise hits all variants alike). The
 * pause before each sample lets the last one's after-effects (children
 * exiting, isolates torn down) finish off the clock.
 *
 * @returns Each variant's samples (ms) by name, and the 1-minute load average before and after.
 */
export async function measure(
  variants: Variant[],
  opts: RoundOptions,
): Promise<{ samples: Map<string, number[]>; loadavg: number[] }> {
  const before = Deno.loadavg()[0];
  for (const v of variants) {
    const warm = v.warm === undefined ? () => v.run() : v.warm;
    if (warm === null) continue;
    for (let i = 0; i < opts.warmup; i++) await warm();
  }
  const samples = new Map(variants.map((v) => [v.name, [] as number[]]));
  for (let round = 0; round < opts.rounds; round++) {
    for (const v of shuffled(variants)) {
      await pause(opts.pause);
      samples.get(v.name)!.push(await v.run());
    }
  }
  return { samples, loadavg: [before, Deno.loadavg()[0]] };
}

/** Linear interpolation between closest ranks (numpy's default). */
export function quantile(samples: number[], q: number): number {
  const s = [...samples].sort((a, b) => a - b);
  const pos = (s.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.min(lo + 1, s.length - 1);
  return s[lo] + (s[hi] - s[lo]) * (pos - lo);
}

/** The median: the mean of the middle two where their number is even. */
export function median(samples: number[]): number {
  return quantile(samples, 0.5);
}

/** Throughput of one variant's samples, per second. */
export interface Rates {
  median: number;
  min: number;
  max: number;
  medianMs: number;
  rates: number[];
  ms: number[];
}

/** The rates of samples that each moved `amount` (items, MiB) in `ms` milliseconds. */
export function rates(ms: number[], amount: number): Rates {
  const rates = ms.map((t) => amount / (t / 1000));
  const [min, max] = [Math.min(...rates), Math.max(...rates)];
  return { median: median(rates), min, max, medianMs: median(ms), rates, ms };
}

/** {@link Rates} as the JSON report has them, keys named after the `unit` (`mib_per_s`). */
export function ratesJson(
  stats: Record<string, Rates>,
  unit: string,
): Record<string, Record<string, number | number[]>> {
  const json = (r: Rates) => ({
    [`median_${unit}`]: r.median,
    [`min_${unit}`]: r.min,
    [`max_${unit}`]: r.max,
    median_ms: r.medianMs,
    [`samples_${unit}`]: r.rates,
    samples_ms: r.ms,
  });
  return Object.fromEntries(Object.entries(stats).map(([name, r]) => [name, json(r)]));
}

/** One row of {@link rates} for {@link printTable}: median, min, max, median ms, spread. */
export function ratesRow(r: Rates, format: (rate: number) => string): string[] {
  const spread = (r.max - r.min) / r.median;
  const cols = [r.median, r.min, r.max].map(format);
  return [...cols, r.medianMs.toFixed(0), `${(spread * 100).toFixed(0)}%`];
}

/** Applies `f` to every variant's samples. */
export function summarize<S>(
  samples: Map<string, number[]>,
  f: (ms: number[]) => S,
): Record<string, S> {
  return Object.fromEntries([...samples].map(([name, ms]) => [name, f(ms)]));
}

/** What a ratio must be to pass. */
export type Test = (value: number) => boolean;
/** A ratio to report: numerator, denominator, target, and its test (null: none). */
export type RatioSpec = [num: string, den: string, target: string, pass: Test | null];

/** The ratio of two variants' medians, against its target. */
export interface Ratio {
  name: string;
  value: number;
  target: string;
  /** Null where the ratio is only reported. */
  pass: boolean | null;
}

/** The ratios of `specs` whose variants both ran, of the medians that `median` picks. */
export function ratios<S>(
  stats: Record<string, S>,
  median: (s: S) => number,
  specs: RatioSpec[],
): Ratio[] {
  const out: Ratio[] = [];
  for (const [num, den, target, pass] of specs) {
    if (!stats[num] || !stats[den]) continue;
    const value = median(stats[num]) / median(stats[den]);
    out.push({ name: `${num} / ${den}`, value, target, pass: pass ? pass(value) : null });
  }
  return out;
}

/** Prints a table: the first column left-aligned, the others right-aligned. */
export function printTable(columns: string[], rows: string[][]): void {
  const width = columns.map((c, i) => Math.max(c.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => i === 0 ? c.padEnd(width[0]) : c.padStart(width[i])).join("  ");
  for (const cells of [columns, ...rows]) console.log(line(cells));
}

/** Prints the ratios under `title`, each with its verdict: PASS, MISS or none. */
export function printRatios(title: string, rs: Ratio[], digits: number): void {
  if (rs.length === 0) return;
  const w = Math.max(...rs.map((r) => r.name.length));
  console.log(`\n${title}`);
  for (const r of rs) {
    const verdict = r.pass === null ? "    " : r.pass ? "PASS" : "MISS";
    const value = `${r.value.toFixed(digits)}x`.padStart(7);
    console.log(`${r.name.padEnd(w)}  ${value}  ${verdict}  target ${r.target}`);
  }
}

/** Where and how a report was made. */
export interface RunInfo {
  deno: string;
  python: string | null;
  cpus: number;
  loadavg: number[];
}

/** The {@link RunInfo} of this run, with Python's version where it ran. */
export function runInfo(python: string | undefined, loadavg: number[]): RunInfo {
  const cpus = navigator.hardwareConcurrency;
  return { deno: Deno.version.deno, python: python ?? null, cpus, loadavg };
}

/** Prints the report's first line: versions, CPUs, `details`, load average. */
export function printHeading(info: RunInfo, details: string): void {
  const load = info.loadavg.map((l) => l.toFixed(2)).join(" -> ");
  const head = `deno ${info.deno}, python ${info.python ?? "-"}, ${info.cpus} CPUs`;
  console.log(`${head}, ${details}, load avg ${load}\n`);
}

/** Writes the JSON report to `path`, where there is one; `params` are the script's options. */
export async function writeJson(
  path: string | undefined,
  info: RunInfo,
  params: Record<string, number>,
  variants: Record<string, unknown>,
  ratios: Ratio[],
): Promise<void> {
  if (!path) return;
  const { deno, python, cpus, loadavg } = info;
  const report = { deno, python, cpus, ...params, loadavg, variants, ratios };
  await Deno.writeTextFile(path, JSON.stringify(report, null, 2) + "\n");
}

/** Settles as `work` does, or rejects with `hung()` after `limitMs` (then ignoring `work`). */
export async function watchdog<T>(
  work: Promise<T>,
  limitMs: number,
  hung: () => string,
): Promise<T> {
  const timeout = Promise.withResolvers<never>();
  const timer = setTimeout(() => timeout.reject(new Error(hung())), limitMs);
  try {
    return await Promise.race([work, timeout.promise]);
  } finally {
    clearTimeout(timer);
    work.catch(() => {});
  }
}

/**
 * Runs `fn`, rethrowing a `SuppressedError` as one error that tells the
 * first failure first: a failure while disposing (after a hang, say) would
 * otherwise hide it behind "An error was suppressed during disposal".
 */
export async function unsuppressed<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (!(err instanceof SuppressedError)) throw err;
    const [first, ...then] = failures(err);
    throw new Error(`${first}\nthen, while disposing: ${then.join("\nand ")}`, { cause: err });
  }
}

/** The errors inside a SuppressedError, first one first, each with its stack. */
function failures(err: unknown): string[] {
  if (err instanceof SuppressedError) return [...failures(err.suppressed), ...failures(err.error)];
  return [err instanceof Error ? err.stack ?? String(err) : String(err)];
}
