/**
 * Waiting, for the cluster's retry loops.
 *
 * @module
 */

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
