/**
 * Before and after, in one run: runs a side-by-side script of `bench/` from
 * another checkout (the "before", e.g. a `git worktree` of an older commit)
 * and from this one, alternately, and prints each variant's median from
 * both, with the after/before ratio. Alternating spreads the machine's
 * drift over both sides alike.
 *
 *     git worktree add --detach /tmp/before <commit>
 *     deno run -A bench/ab.ts --before /tmp/before [--times N] SCRIPT [SCRIPT ARGS...]
 *     deno run -A bench/ab.ts --before /tmp/before --times 3 pool_throughput.ts --rounds 2
 *
 * Each script writes its figures with `--json`; a variant's figure is its
 * `median_*` rate (higher is better) or `median_ms` (lower is better).
 *
 * @module
 */

const USAGE = "Usage: deno run -A bench/ab.ts --before DIR [--times N] SCRIPT [ARGS...]";

interface Parsed {
  before: string;
  times: number;
  script: string;
  args: string[];
}

function parse(args: string[]): Parsed {
  let before: string | undefined, times = 3, i = 0;
  for (; i < args.length && args[i].startsWith("--"); i += 2) {
    if (args[i] === "--before") before = args[i + 1];
    else if (args[i] === "--times") times = Number(args[i + 1]);
    else throw new Error(`${USAGE}\nUnknown flag ${args[i]}`);
  }
  if (!before || !args[i] || !(times >= 1)) throw new Error(USAGE);
  return { before, times, script: args[i], args: args.slice(i + 1) };
}

type Figures = Map<string, { key: string; value: number }>;

/** Runs `bench/<script>` of the checkout at `root`; the figure of each variant. */
async function runOnce(root: string, script: string, args: string[]): Promise<Figures> {
  const json = await Deno.makeTempFile({ suffix: ".json" });
  try {
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", `${root}/bench/${script}`, ...args, "--json", json],
      cwd: root,
      stdout: "null",
      stderr: "inherit",
    }).output();
    if (!out.success) throw new Error(`${root}/bench/${script} failed (exit ${out.code})`);
    const report = JSON.parse(await Deno.readTextFile(json));
    const figures: Figures = new Map();
    for (const [name, v] of Object.entries(report.variants as Record<string, unknown>)) {
      const fields = v as Record<string, unknown>;
      const key = Object.keys(fields).find((k) => k.startsWith("median_") && k !== "median_ms") ??
        (typeof fields.median_ms === "number" ? "median_ms" : undefined);
      if (key) figures.set(name, { key, value: fields[key] as number });
    }
    return figures;
  } finally {
    await Deno.remove(json);
  }
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

if (import.meta.main) {
  const { before, times, script, args } = parse(Deno.args);
  const here = decodeURIComponent(new URL("..", import.meta.url).pathname).replace(/\/$/, "");
  const sides = { before: [] as Figures[], after: [] as Figures[] };
  for (let t = 0; t < times; t++) {
    // Alternate which side goes first, so neither always runs on a warmer machine.
    const order = t % 2 ? ["after", "before"] as const : ["before", "after"] as const;
    for (const side of order) {
      sides[side].push(await runOnce(side === "before" ? before : here, script, args));
    }
  }
  const names = [...new Set(sides.after.flatMap((f) => [...f.keys()]))];
  console.log(`${script} ${args.join(" ")}: ${times} runs each side, alternated`);
  console.log(
    ["variant", "figure", "before", "after", "after/before"].map((s) => s.padEnd(14)).join(""),
  );
  for (const name of names) {
    const key = sides.after.find((f) => f.has(name))!.get(name)!.key;
    const of = (runs: Figures[]) =>
      median(runs.map((f) => f.get(name)?.value).filter((v): v is number => v !== undefined));
    const b = of(sides.before), a = of(sides.after);
    const fmt = (x: number) => Number.isFinite(x) ? x.toPrecision(4) : "-";
    console.log(
      `${name}\n  ${key.padEnd(26)}${fmt(b).padEnd(14)}${fmt(a).padEnd(14)}${fmt(a / b)}`,
    );
  }
}
