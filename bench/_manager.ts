// The samples of bench/manager_throughput.ts, and the pool task they run
// (a module of its own: pool workers import it).
import type { Manager } from "../manager.ts";
import type { DictProxy } from "../manager.ts";
import { Pool } from "../pool.ts";
import type { StartMethod } from "../process.ts";
import type { Queue } from "../queue.ts";

/** In a pool worker: n put+get round trips on a manager queue; resolves the ms taken. */
export async function queueTask(q: Queue<number>, n: number): Promise<number> {
  await q.put(-1);
  await q.get();
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    await q.put(i);
    if (await q.get() !== i) throw new Error("an item came back wrong");
  }
  return performance.now() - t0;
}

/** In a pool worker: n puts, then n gets on a manager queue; resolves the ms taken. */
export async function streamTask(q: Queue<number>, n: number): Promise<number> {
  await q.put(-1);
  await q.get();
  const t0 = performance.now();
  for (let i = 0; i < n; i++) await q.put(i);
  for (let i = 0; i < n; i++) {
    if (await q.get() !== i) throw new Error("an item came back wrong");
  }
  return performance.now() - t0;
}

/** n sequential `set` + `get` pairs on a manager dict; resolves the ms taken. */
export async function dictCalls(d: DictProxy<string, number>, n: number): Promise<number> {
  await d.set("k", -1);
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    await d.set("k", i);
    if (await d.get("k") !== i) throw new Error("a value came back wrong");
  }
  return performance.now() - t0;
}

/** The ms of `items` queue round trips (or of `task`) from a pool task of `startMethod`. */
export async function queueSample(
  manager: Manager,
  startMethod: StartMethod,
  items: number,
  task: typeof queueTask = queueTask,
): Promise<number> {
  const q = await manager.Queue<number>();
  await using pool = new Pool({ processes: 1, startMethod, module: import.meta.url });
  await pool.apply(queueTask, [q, 10]); // the worker is up and connected
  return await pool.apply(task, [q, items]);
}

/**
 * Milliseconds of the same round trips a sample makes, untimed, before its
 * timed ones. After an idle pause (the one before every sample), this
 * machine's round trips run about four times faster for some 50 ms: a bare
 * echo took 13-19 µs per trip, then 55-80 µs (in chunks of 250 trips after
 * each of five pauses of 100 ms: `bench/socket_echo.ts --spell`). A sample
 * of a fixed number of calls spends more of itself in that spell the faster
 * each call is: 10,000 echoes after the pause ran at 1.2-1.3x the rate of
 * 10,000 after 100 ms of echoes, and the dict's calls at 0.83x the echo's,
 * against 0.99-1.02x once both had settled. The echo and the dict settle
 * alike ({@link settled}): what is timed is the steady state a program
 * making calls one after another sees.
 */
export const SETTLE_MS = 100;

/** Runs `chunk` untimed for {@link SETTLE_MS}, then times `run`; resolves the ms it took. */
export async function settled(
  chunk: () => Promise<unknown>,
  run: () => Promise<number>,
): Promise<number> {
  const t0 = performance.now();
  while (performance.now() - t0 < SETTLE_MS) await chunk();
  return await run();
}

/** The ms of `calls` / 2 dict set+get pairs from this process, after it settled. */
export async function dictSample(manager: Manager, calls: number): Promise<number> {
  const d = await manager.dict<string, number>();
  return await settled(() => dictCalls(d, 50), () => dictCalls(d, calls / 2));
}

/** `calls` dict sets with `inFlight` of them pipelined at a time; resolves the ms taken. */
async function pipelined(
  d: DictProxy<string, number>,
  calls: number,
  inFlight: number,
): Promise<number> {
  const t0 = performance.now();
  for (let done = 0; done < calls; done += inFlight) {
    const n = Math.min(inFlight, calls - done);
    await Promise.all(Array.from({ length: n }, (_, i) => d.set(`k${i}`, done + i)));
  }
  return performance.now() - t0;
}

/** The ms of `calls` dict sets, `inFlight` of them at a time, after it settled. */
export async function pipelinedSample(
  manager: Manager,
  calls: number,
  inFlight: number,
): Promise<number> {
  const d = await manager.dict<string, number>();
  return await settled(
    () => pipelined(d, 2 * inFlight, inFlight),
    () => pipelined(d, calls, inFlight),
  );
}
