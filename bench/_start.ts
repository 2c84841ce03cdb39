// One start-to-exit of each start-up variant, shared by the side-by-side
// script (process_start.ts) and the `deno bench` file.

// process.ts rather than mod.ts: what a parent imports plays no part in a
// child's start, and the bench then loads only what it measures.
import { Process, type StartMethod } from "../process.ts";
import { empty, putOne } from "./_targets.ts";
import { Queue } from "../queue.ts";
import { getRuntimeArgs } from "../context.ts";
import { resolutionFlags } from "../_internal/process/launch.ts";
import { permissionFlags } from "../_internal/process/permissions.ts";
import { setWarm, sparesReady } from "../_internal/process/spares.ts";

const TARGETS = new URL("./_targets.ts", import.meta.url).href;
const EMPTY = new URL("./_empty.ts", import.meta.url).href;
const MAIN_TARGET = new URL("./_main_target.ts", import.meta.url).href;
const PROCESS_TARGET = new URL("./_process_target.ts", import.meta.url).href;
const FLOOR_WORKER = new URL("./_floor_worker.ts", import.meta.url).href;

/** The subprocess floor: `deno run` of an empty file, spawned and waited for. */
export async function rawCommand(): Promise<void> {
  // The library's exact flags: its config and permissions, as a child gets them.
  const args = [
    "run",
    ...resolutionFlags(getRuntimeArgs()),
    ...permissionFlags("inherit", { read: [], write: [], net: [] }),
    EMPTY,
  ];
  const { code } = await new Deno.Command(Deno.execPath(), { args })
    .spawn().status;
  if (code !== 0) throw new Error(`deno run ${EMPTY} exited with ${code}`);
}

/** The worker floor: a module worker that posts once, then is terminated. */
export async function rawWorker(): Promise<void> {
  const worker = new Worker(FLOOR_WORKER, { type: "module" });
  await new Promise<void>((resolve, reject) => {
    worker.onmessage = () => {
      worker.terminate();
      resolve();
    };
    worker.onerror = (e) => {
      e.preventDefault();
      worker.terminate();
      reject(new Error(`The floor worker failed: ${e.message}`));
    };
  });
}

/**
 * The floor of the backend worker children run on: a `node:worker_threads`
 * Worker that posts once, then is terminated.
 */
export async function rawNodeWorker(): Promise<void> {
  const { Worker } = await import("node:worker_threads");
  const worker = new Worker(new URL(FLOOR_WORKER));
  await new Promise<void>((resolve, reject) => {
    worker.once("message", () => resolve());
    worker.once("error", reject);
  });
  await worker.terminate();
}

/**
 * The target of `_main_target.ts` and `_process_target.ts`, declared again
 * here: a child finds its target by module, name and source, so this
 * process does not load what those modules import (the whole package: a
 * bigger parent made every variant's spawn slower).
 */
function work(): void {}

/**
 * `Process` start and join of an empty target; with `inMain`, of one in a
 * module that imports the package (`"package"`), or its `./process` entry
 * alone (`"process"`), as a program's own targets are.
 */
export async function processStartJoin(
  startMethod: StartMethod,
  inMain?: "package" | "process",
): Promise<void> {
  const p = inMain === "package"
    ? new Process({ target: work, module: MAIN_TARGET, startMethod })
    : inMain === "process"
    ? new Process({ target: work, module: PROCESS_TARGET, startMethod })
    : new Process({ target: empty, module: TARGETS, startMethod });
  await p.start();
  await p.join();
  if (p.exitCode !== 0) {
    throw new Error(`Process [${startMethod}] exited with ${p.exitCode}`);
  }
}

/**
 * `Process` start and join of an empty target on a warm spare: keeps one
 * spare and waits (off the clock) until it is ready, times start to join,
 * then waits for the refill and stops the spares, so that the cold variants
 * run without any. Returns the time, and how long the refill took (spare
 * taken to the next one ready). With `put`, the child puts one item in a
 * queue of this process, which is got before the join: a child's first use
 * of a handle.
 */
export async function warmStartJoin(
  startMethod: StartMethod,
  put = false,
): Promise<{ ms: number; refillMs: number }> {
  await setWarm(startMethod, 1);
  while (sparesReady(startMethod) < 1) await new Promise((r) => setTimeout(r, 1));
  // What a program that keeps spares sees: they were started a while ago.
  await new Promise((r) => setTimeout(r, 20));
  const q = put ? queue() : undefined;
  const t0 = performance.now();
  const p = q
    ? new Process({ target: putOne, args: [q], module: TARGETS, startMethod })
    : new Process({ target: empty, module: TARGETS, startMethod });
  await p.start();
  if (q && await q.get() !== 1) throw new Error(`Process [${startMethod}] put a wrong item`);
  await p.join();
  const ms = performance.now() - t0;
  if (p.exitCode !== 0) throw new Error(`Process [${startMethod}] exited with ${p.exitCode}`);
  while (sparesReady(startMethod) < 1) await new Promise((r) => setTimeout(r, 1));
  const refillMs = performance.now() - t0;
  await setWarm(startMethod, 0);
  return { ms, refillMs };
}

let shared: Queue<number> | undefined;

/** The queue the `put` samples share (made once: its hub stays up meanwhile). */
function queue(): Queue<number> {
  return shared ??= new Queue<number>();
}
