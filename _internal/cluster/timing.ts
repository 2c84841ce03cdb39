/**
 * Waiting, for the cluster's retry loops.
 *
 * @module
 */

import { clearImmediate, setImmediate } from "node:timers";

/**
 * Runs `f` once this turn's microtasks are done (node's `setImmediate`):
 * measured here at ~0.01 ms, where `setTimeout(f, 0)` takes ~2 ms, which
 * was half of a task's round trip. Returns a function that cancels it.
 */
export function nextTurn(f: () => void): () => void {
  const handle = setImmediate(f);
  return () => clearImmediate(handle);
}

/** Resolves after `ms` (an unref'd timer: it keeps no program alive). */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    Deno.unrefTimer(timer);
  });
}

/** The wait before retry `i` (0-based) of something the broker refused: 100 ms doubling to 2 s. */
export function backoff(i: number): number {
  return Math.min(2000, 100 * 2 ** i);
}
