// Targets of the start-up benchmarks. A child imports this module, so it stays
// as small as a target module can be: what remains of a child's start is the
// library's own cost, not the user's imports.

import type { Queue } from "../queue.ts";

/** Does nothing: a child running it measures start-up and exit alone. */
export function empty(): void {}

/** Puts one item in `q`: a child's first use of a handle (the class a type only, as here). */
export async function putOne(q: Queue<number>): Promise<void> {
  await q.put(1);
}

/** Waits for `ms` milliseconds: an idle child. */
export function idle(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** This module instance's id, one per worker (thread or process) that imported it. */
const INSTANCE = crypto.randomUUID();

/** Waits `ms` milliseconds, then says which worker ran it: proof that every worker is up. */
export async function whoAfter(ms: number): Promise<string> {
  await idle(ms);
  return INSTANCE;
}

/** Busy-loops for `ms` milliseconds in synchronous code: a busy child. */
export function spinFor(ms: number): void {
  const end = Date.now() + ms;
  while (Date.now() < end) { /* never yields */ }
}

/**
 * A fixed amount of pure CPU work: `n` rounds of an integer mix (the same
 * as bench/py/pool_scaling.py's), returning its checksum so that nothing is
 * optimized away and results can be checked.
 */
export function mix(n: number): number {
  // Kept a signed 32-bit integer in the loop (the same bits as Python's
  // unsigned one): an unsigned one past 2^31 is a double to V8, and a
  // function whose numbers change kind was deoptimized now and then, some
  // chunks running 7x slower than others.
  let h = 0x811c9dc5 | 0;
  for (let i = 0; i < n; i++) h = Math.imul(h ^ i, 0x01000193);
  return h >>> 0;
}
