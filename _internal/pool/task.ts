/**
 * What the scheduler knows of a task, of a worker (a slot), and of how long
 * a function's calls take.
 *
 * @module
 */

import type { Queueable } from "./task_queue.ts";
import type { TaskMessage, ToWorker } from "./protocol.ts";

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
  held: HeldTasks<Task>;
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
    held: new HeldTasks(),
    sent: 0,
    exclusive: false,
    pendingMs: 0,
    unknown: 0,
    lastProgress: 0,
    retiring: false,
  };
}

/** Past this many emptied entries at its head, a {@link HeldTasks} drops them. */
const COMPACT_AT = 1024;

/**
 * The tasks a worker holds, in the order it was sent them, which is the
 * order it runs them and answers them: a result's task is the oldest held
 * (found at once), and only a task given back or asked back is looked for
 * further on. A `Map` by id cost a map of tiny tasks an entry for each task,
 * and its table's growing and shrinking, in the parent's hottest loop.
 */
export class HeldTasks<T extends { readonly id: number }> {
  #items: (T | undefined)[] = [];
  #head = 0;
  #size = 0;

  /** How many are held. */
  get size(): number {
    return this.#size;
  }

  /** Holds `task`, after the others. */
  add(task: T): void {
    this.#items.push(task);
    this.#size++;
  }

  /** The held task with this id, if one is. */
  get(id: number): T | undefined {
    for (let i = this.#head; i < this.#items.length; i++) {
      if (this.#items[i]?.id === id) return this.#items[i];
    }
    return undefined;
  }

  /** No longer holds `task`. */
  delete(task: T): void {
    const i = this.#items[this.#head] === task ? this.#head : this.#items.indexOf(task, this.#head);
    if (i < 0) return;
    this.#items[i] = undefined;
    if (--this.#size === 0) {
      this.#items = [];
      this.#head = 0;
      return;
    }
    while (this.#items[this.#head] === undefined) this.#head++;
    if (this.#head >= COMPACT_AT && this.#head * 2 >= this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
  }

  /** The held tasks, oldest first. */
  *[Symbol.iterator](): IterableIterator<T> {
    for (let i = this.#head; i < this.#items.length; i++) {
      const t = this.#items[i];
      if (t) yield t;
    }
  }
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
