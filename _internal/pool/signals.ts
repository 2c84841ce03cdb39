/**
 * The pool's abort bookkeeping: one listener per `AbortSignal`, however
 * many tasks share it, and the tasks of an aborted signal failed a slice at
 * a time.
 *
 * A listener per task made a signal shared by n tasks cost O(n²): each
 * task removed its own listener from a list of n when it settled (30k tasks
 * took 7.45 s with one shared signal, 523 ms without), and an abort of
 * 100k queued tasks blocked the event loop for seconds (issue #15).
 *
 * @module
 */

import { nextTurn, onAbort } from "../base/async.ts";

/** Tasks failed per turn of the event loop after an abort. */
export const ABORT_SLICE = 1024;

interface Watched<T> {
  tasks: Set<T>;
  off: () => void;
}

/** Tasks by signal; see the module doc. */
export class SignalWatch<T> {
  #watched = new Map<AbortSignal, Watched<T>>();
  #aborted: (tasks: T[], reason: unknown) => void;

  /** `aborted` gets every task still watched when their signal aborts. */
  constructor(aborted: (tasks: T[], reason: unknown) => void) {
    this.#aborted = aborted;
  }

  /** Watches `task` until {@link SignalWatch.delete}; the signal must not have aborted yet. */
  add(signal: AbortSignal, task: T): void {
    let w = this.#watched.get(signal);
    if (!w) {
      const tasks = new Set<T>();
      const entry: Watched<T> = { tasks, off: () => {} };
      this.#watched.set(signal, entry);
      entry.off = onAbort(signal, (reason) => {
        this.#watched.delete(signal);
        this.#aborted([...tasks], reason);
      });
      w = entry;
    }
    w.tasks.add(task);
  }

  /** Stops watching `task`; the listener goes with the signal's last task. */
  delete(signal: AbortSignal, task: T): void {
    const w = this.#watched.get(signal);
    if (!w || !w.tasks.delete(task) || w.tasks.size > 0) return;
    w.off();
    this.#watched.delete(signal);
  }
}

/**
 * Calls `fn` on every item, {@link ABORT_SLICE} at a time with a turn of
 * the event loop between: failing 100k tasks (and running their callbacks)
 * must not hold up timers and I/O until the last one.
 */
export async function inSlices<T>(items: T[], fn: (item: T) => void): Promise<void> {
  for (let i = 0; i < items.length; i += ABORT_SLICE) {
    if (i > 0) await nextTurn();
    const end = Math.min(items.length, i + ABORT_SLICE);
    for (let j = i; j < end; j++) fn(items[j]);
  }
}
