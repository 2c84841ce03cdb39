/**
 * What happens to children when their parent dies, and to a stuck worker
 * when it is terminated:
 *
 * - the time from a parent's death (SIGKILL, SIGTERM, SIGINT to the parent
 *   alone) to the exit of its last descendant, per start method, for busy
 *   children (a synchronous loop), idle ones, and a pool at work; targets:
 *   at most 2 s everywhere, 0.2 s for idle children;
 * - the time from `Pool.terminate()` to `join()` resolving, with its worker
 *   stuck in a synchronous loop (worker method).
 *
 *     deno run -A bench/lifecycle.ts [--rounds N] [--json PATH]
 *
 * Linux only (descendants are found through /proc).
 *
 * @module
 */

import { Pool } from "../mod.ts";
import { spinFor } from "./_targets.ts";
import * as report from "./_report.ts";

const USAGE = "Usage: deno run -A bench/lifecycle.ts [--rounds N] [--json PATH]";
const PROGRAM = new URL("./_lifecycle_main.ts", import.meta.url).pathname;
const SIGNALS = ["SIGKILL", "SIGTERM", "SIGINT"] as const;
const DEFAULTS: report.RoundOptions = { rounds: 5, warmup: 1, pause: 50, json: undefined };

function descendants(pid: number): number[] {
  const out: number[] = [];
  try {
    for (const t of Deno.readDirSync(`/proc/${pid}/task`)) {
      const list = Deno.readTextFileSync(`/proc/${pid}/task/${t.name}/children`).trim();
      for (const c of list ? list.split(" ").map(Number) : []) out.push(c, ...descendants(c));
    }
  } catch { /* gone */ }
  return out;
}

function alive(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(Deno.readTextFileSync(`/proc/${pid}/stat`));
  } catch {
    return false;
  }
}

/** Kills the program's process alone; ms until its last descendant (or itself) is gone. */
async function deathToLastExit(method: string, kind: string, signal: Deno.Signal): Promise<number> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", PROGRAM, method, kind],
    stdout: "piped",
    stderr: "inherit",
    stdin: "null",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  for (let text = ""; !text.includes("ready");) text += (await reader.read()).value ?? "";
  const pids = [child.pid, ...descendants(child.pid)];
  const t0 = performance.now();
  Deno.kill(child.pid, signal);
  await child.status;
  const deadline = t0 + 15_000;
  while (pids.some(alive) && performance.now() < deadline) await report.pause(5);
  const ms = performance.now() - t0;
  await reader.cancel();
  if (pids.some(alive)) throw new Error(`${method} ${kind} ${signal}: descendants outlived 15 s`);
  return ms;
}

/** ms from Pool.terminate() to join() with its one worker-method worker stuck. */
async function terminateStuck(): Promise<number> {
  const pool = new Pool({
    processes: 1,
    startMethod: "worker",
    module: new URL("./_targets.ts", import.meta.url),
  });
  await pool.apply(spinFor, [0]);
  pool.apply(spinFor, [1e9]).catch(() => {});
  await report.pause(50); // it runs
  const t0 = performance.now();
  pool.terminate();
  await pool.join();
  return performance.now() - t0;
}

async function main(opts: report.RoundOptions): Promise<void> {
  const variants: report.Variant[] = [];
  for (const method of ["subprocess", "worker"]) {
    for (const kind of ["busy", "idle", "pool"]) {
      for (const signal of SIGNALS) {
        variants.push({
          name: `${method} ${kind} ${signal}`,
          run: () => deathToLastExit(method, kind, signal),
        });
      }
    }
  }
  variants.push({ name: "terminate stuck pool worker", run: terminateStuck });
  const { samples, loadavg } = await report.measure(variants, opts);
  const stats = report.summarize(
    samples,
    (s) => ({ median_ms: report.median(s), max_ms: Math.max(...s) }),
  );
  const info = report.runInfo(undefined, loadavg);
  report.printHeading(info, `${opts.rounds} rounds`);
  const rows = Object.entries(stats).map(([name, s]) => {
    const target = name.startsWith("terminate") ? undefined : name.includes("idle") ? 200 : 2000;
    const verdict = target === undefined ? "" : s.max_ms <= target ? "PASS" : "MISS";
    return [
      name,
      s.median_ms.toFixed(1),
      s.max_ms.toFixed(1),
      target ? `<= ${target} ms` : "",
      verdict,
    ];
  });
  report.printTable(["variant", "median ms", "max ms", "target (max)", ""], rows);
  await report.writeJson(opts.json, info, { rounds: opts.rounds }, stats, []);
}

if (import.meta.main) {
  await main(report.parseFlags(Deno.args, DEFAULTS, report.ROUND_FLAGS, USAGE));
}
