/**
 * One task's life in the engine: its promise, and the bookkeeping a
 * settlement undoes (the watch on its signal).
 *
 * @module
 */

import type { FnStats, Slot, Task } from "./task.ts";
import type { SignalWatch } from "./signals.ts";
import type { TaskMessage } from "./worker.ts";

/**
 * A submitted task (a chunk of calls of one function). A class rather than
 * closures: a map of a million tasks holds a million of them.
 */
export class PoolTask implements Task {
  queued = false;
  est = NaN;
  done = false;
  slot: Slot | undefined = undefined;
  reclaiming = false;
  exclusive = false;
  /** Settles with the results of its calls, or the error. */
  readonly promise: Promise<unknown[]>;
  #resolve!: (values: unknown[]) => void;
  #reject!: (err: unknown) => void;
  #settled = false;

  /** A task with the given id and message, watched on `signal` until it settles. */
  constructor(
    readonly id: number,
    public message: TaskMessage,
    public stats: FnStats,
    readonly signal: AbortSignal | undefined,
    readonly watch: SignalWatch<PoolTask>,
    readonly onSettled: () => void,
  ) {
    this.promise = new Promise((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
  }

  /** Fulfils it (once; later settlements are ignored). */
  resolve(values: unknown[]): void {
    if (this.#settle()) this.#resolve(values);
  }

  /** Rejects it (once; later settlements are ignored). */
  reject(err: unknown): void {
    if (this.#settle()) this.#reject(err);
  }

  #settle(): boolean {
    if (this.#settled) return false;
    this.#settled = true;
    this.done = true;
    if (this.signal) this.watch.delete(this.signal, this);
    this.onSettled();
    return true;
  }
}
