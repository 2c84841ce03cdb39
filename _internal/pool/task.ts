/**
 * What the scheduler knows of a task, of a worker (a slot), and of how long
 * a function's calls take.
 *
 * @module
 */

import type { Queueable } from "./task_queue.ts";
import type { TaskMessage, ToWorker } from "./worker.ts";

/** Weight of a new measurement when a function turns out quicker than measured before. */
const ALPHA = 0.5;
/** Weight of a new measurement when it is slower than a function's typical quick call. */
const ALPHA_LOW = 0.1;

/** How long one call of a function takes, as measured by the workers. */
export interface FnStats {
  /** Milliseconds per call (quick to rise, so nothing queues behind a long call); NaN until measured. */
  perCall: number;
  /**
   * Milliseconds of a typical quick call (quick to fall, slow to rise): what
   * a queue of such calls costs the workers, without the hiccups (a
   * collection, a worker kept off the cores) that raise `perCall`.
   */
  low: number;
  /** The reply that last updated it (one update per reply). */
  seen: number;
}

/** A task: a chunk of calls of one function. */
export interface Task extends Queueable {
  readonly id: number;
  message: TaskMessage;
  /** Its function's measured durations. */
  stats: FnStats;
  /** Expected milliseconds when sent; NaN when unknown. */
  est: number;
  /** Settled (or aborted): a result that still comes is dropped. */
  done: boolean;
  /** The worker holding it, once sent. */
  slot: Slot | undefined;
  /** Asked back from its worker. */
  reclaiming: boolean;
  /** Its arguments hold handles: it runs alone on a worker (see the engine). */
  exclusive: boolean;
  resolve(values: unknown[]): void;
  reject(err: unknown): void;
}

/** A started worker, as the scheduler sees it. */
export interface Slot {
  conn: { send(value: ToWorker): Promise<void> };
  /** Tasks sent and not yet answered, oldest first (the one running, then the rest). */
  held: Map<number, Task>;
  /** Tasks it was sent and kept (for `maxTasksPerChild`). */
  sent: number;
  /** It holds an exclusive task, and so nothing else. */
  exclusive: boolean;
  /** Expected milliseconds of what it holds, tasks of unknown duration aside. */
  pendingMs: number;
  /** Held tasks of unknown duration. */
  unknown: number;
  /** When it last returned something, or was sent work while idle. */
  lastProgress: number;
  /** Told to stop: it takes nothing more. */
  retiring: boolean;
  /** Its name, for the log. */
  label?: string;
}

/** A new slot's scheduling state. */
export function newSlot(conn: Slot["conn"]): Slot {
  return {
    conn,
    held: new Map(),
    sent: 0,
    exclusive: false,
    pendingMs: 0,
    unknown: 0,
    lastProgress: 0,
    retiring: false,
  };
}

/**
 * Learns a call's measured milliseconds: `perCall` rises at once (stop
 * queueing behind a long call) and falls gradually; `low` the other way.
 */
export function learn(stats: FnStats, sample: number): void {
  stats.perCall = moved(stats.perCall, sample, 1, ALPHA);
  stats.low = moved(stats.low, sample, ALPHA_LOW, 1);
}

/**
 * `value` moved towards `sample`: by the weight `up` when the sample is
 * above it, `down` when below (1: at once); the sample itself while nothing
 * was measured (NaN). Named weights, not a comparison per field: the two
 * estimates differ only in them.
 */
function moved(value: number, sample: number, up: number, down: number): number {
  const weight = sample > value ? up : down;
  return Number.isNaN(value) || weight === 1 ? sample : value + weight * (sample - value);
}

/** A new function's stats: nothing measured yet. */
export function newStats(): FnStats {
  return { perCall: NaN, low: NaN, seen: 0 };
}
