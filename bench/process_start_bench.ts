// `deno bench -A --no-check bench/`: Process start+join of an empty target
// against its floor, per start method. The Python peer, interleaved rounds
// and the targets' PASS/MISS are in process_start.ts.
//
// --no-check: with type checking on, `deno bench` also checks a worker's
// module graph each time a Worker starts (a "Check" line per sample), which
// no program pays: the worker figures come out higher and noisier.

import { processStartJoin, rawCommand, rawWorker } from "./_start.ts";

/** Idle time before each sample, off the clock (see process_start.ts). */
const PAUSE_MS = 50;

/**
 * Registers a group of variants, the first of them the baseline. Every
 * iteration spawns a child, so the counts stay small.
 */
function startGroup(
  group: "subprocess" | "worker",
  variants: Record<string, () => Promise<void>>,
): void {
  const n = group === "subprocess" ? 20 : 50;
  for (const [i, [name, run]] of Object.entries(variants).entries()) {
    Deno.bench({
      group: `${group} start+join`,
      name,
      baseline: i === 0,
      n,
      warmup: 2,
      // An async function: `deno bench` awaits only those, and a plain one
      // returning a promise would leave children starting unawaited.
      async fn(b) {
        await new Promise((resolve) => setTimeout(resolve, PAUSE_MS));
        b.start();
        await run();
        b.end();
      },
    });
  }
}

startGroup("subprocess", {
  "raw Deno.Command: deno run <empty file>": rawCommand,
  "Process start+join [subprocess]": () => processStartJoin("subprocess"),
});
startGroup("worker", {
  "raw Worker: post on start, terminate": rawWorker,
  "Process start+join [worker]": () => processStartJoin("worker"),
});
