// The samples of the lock benchmark (lock_throughput.ts) and their
// children's targets. Children import this module, so it starts nothing at
// its top level.

import { Process, type StartMethod } from "../process.ts";
import { SharedArray, Value } from "../shared.ts";
import { Barrier } from "../synchronize/barrier.ts";
import { Lock } from "../synchronize/lock.ts";

/** What a sample measures. */
export type Mode = "uncontended" | "contended" | "counter";

/** Wall-clock milliseconds since the epoch, comparable between processes. */
export function wallMs(): number {
  return performance.timeOrigin + performance.now();
}

/**
 * Child: `n` acquire/release pairs on `lock` after `go` (with `counter`, a
 * read-add-write of it inside each); the time it finished in `out[slot]`.
 */
export async function lockLoop(
  lock: Lock,
  counter: Value | null,
  n: number,
  go: Barrier,
  out: SharedArray,
  slot: number,
): Promise<void> {
  await go.wait(); // every child started, and the parent, pass together
  for (let i = 0; i < n; i++) {
    await lock.acquire();
    if (counter) await counter.set(await counter.get() as number + 1);
    await lock.release();
  }
  await out.set(slot, wallMs());
}

/**
 * One sample: `procs` children (1 for "uncontended") share `ops`
 * operations; resolves the wall-clock ms from their release (a barrier
 * they and the parent pass together) to the last one's finish.
 */
export async function lockSample(
  mode: Mode,
  startMethod: StartMethod,
  ops: number,
  procs: number,
): Promise<number> {
  const k = mode === "uncontended" ? 1 : procs;
  await using counter = new Value("i", 0);
  await using go = new Barrier(k + 1);
  await using out = new SharedArray("d", k);
  const per = Math.floor(ops / k);
  // Python's peer: a plain Lock for the pairs, the Value's own RLock for the counter.
  await using plain = new Lock();
  const lock = mode === "counter" ? counter.getLock() : plain;
  const children = Array.from({ length: k }, (_, slot) =>
    new Process({
      target: lockLoop,
      args: [lock, mode === "counter" ? counter : null, per, go, out, slot],
      module: import.meta.url,
      startMethod,
    }));
  for (const p of children) await p.start();
  await go.wait();
  const t0 = wallMs();
  for (const p of children) await p.join();
  for (const p of children) {
    if (p.exitCode !== 0) throw new Error(`A ${mode} child exited with ${p.exitCode}`);
  }
  if (mode === "counter" && await counter.get() !== per * k) {
    throw new Error(`The counter lost updates: ${await counter.get()} of ${per * k}`);
  }
  return Math.max(...await out.slice() as number[]) - t0;
}
