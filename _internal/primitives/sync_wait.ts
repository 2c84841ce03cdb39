/**
 * Waiting on a word of shared memory without blocking the event loop, and
 * telling which process holds what: the ground the synchronization
 * primitives stand on.
 *
 * Every process that sees a primitive's `SharedArrayBuffer` (its creator
 * and worker children) runs the same algorithms on it; a process that does
 * not (a subprocess child) asks the creator to run them on its behalf.
 *
 * @module
 */

import { abortable, keepAlive } from "../base/async.ts";
import { isolateGlobal } from "../base/state.ts";
import { state } from "../base/state.ts";

/**
 * Longest single `Atomics.waitAsync`. A wait that was given up (its caller
 * aborted) cannot be taken back from V8; bounding each one lets it expire,
 * and because every wake-up here notifies all waiters, an expired or
 * abandoned wait never swallows a notification meant for a live one.
 */
const SLICE_MS = 1000;

interface WaitState {
  /** The ident {@link myOwner} last hashed, and its hash. */
  ident: string;
  owner: number;
}

function waits(): WaitState {
  return isolateGlobal("syncWait", () => ({ ident: "", owner: 0 }));
}

/**
 * Waits until `ia[index]` is no longer `expected`. Resolves true when it
 * changed, false at the deadline; rejects with the signal's reason on abort.
 */
export async function waitChange(
  ia: Int32Array,
  index: number,
  expected: number,
  deadline: number | null,
  signal?: AbortSignal,
): Promise<boolean> {
  if (Atomics.load(ia, index) !== expected) return true;
  // A pending Atomics.waitAsync does not keep Deno's event loop alive: a
  // process whose only work is waiting for a lock would exit.
  const release = keepAlive();
  try {
    while (true) {
      if (signal?.aborted) throw signal.reason;
      const left = deadline === null ? SLICE_MS : Math.min(SLICE_MS, deadline - performance.now());
      if (left <= 0) return Atomics.load(ia, index) !== expected;
      const r = Atomics.waitAsync(ia, index, expected, left);
      if (r.async) {
        if ((await (signal ? abortable(r.value, signal) : r.value)) === "ok") return true;
      } else if (r.value === "not-equal") {
        return true;
      }
      if (Atomics.load(ia, index) !== expected) return true;
    }
  } finally {
    release();
  }
}

/** Wakes every waiter on `ia[index]`. */
export function wakeAll(ia: Int32Array, index: number): void {
  Atomics.notify(ia, index);
}

/**
 * A positive 31-bit number standing for a process (or worker) in a lock's
 * owner word: a hash of its ident, which is unique in the process tree.
 */
export function ownerOf(ident: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < ident.length; i++) {
    h ^= ident.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  // 30 bits: the numbers from 2^30 up are those a host gives the processes
  // that call it over a connection (`sync_host.ts`), which no ident hashes to.
  return (h >>> 2) || 1;
}

/** This process's owner number. */
export function myOwner(): number {
  // A child takes its ident while it starts: hash each ident once.
  const w = waits();
  const ident = state().ident;
  if (ident !== w.ident) {
    w.ident = ident;
    w.owner = ownerOf(ident);
  }
  return w.owner;
}

/** What a wait is allowed: `block`, `timeout` (ms) and an abort signal. */
export interface WaitOptions {
  /** Wait at all; `false` answers at once. @default {true} */
  block?: boolean;
  /** Milliseconds to wait at most; no limit when absent. */
  timeout?: number | null;
  /** Aborts the wait: it rejects with the signal's reason. */
  signal?: AbortSignal;
}

/**
 * Validates wait options and returns the deadline (0 ms when not blocking).
 * @throws {RangeError} On a negative or non-numeric timeout.
 */
export function deadlineFor(what: string, o: WaitOptions): number | null {
  if (o.block === false) return performance.now();
  if (o.timeout === undefined || o.timeout === null) return null;
  if (typeof o.timeout !== "number" || !(o.timeout >= 0)) {
    throw new RangeError(
      `Cannot ${what}: 'timeout' must be a non-negative number, received ${o.timeout}`,
    );
  }
  return performance.now() + o.timeout;
}
