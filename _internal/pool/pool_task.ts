/**
 * One task's life in the engine: its promise (or the callback that stands
 * for it), and the bookkeeping a settlement undoes (the watch on its
 * signal).
 *
 * @module
 */

import type { FnStats, Slot, Task } from "./task.ts";
import type { SignalWatch } from "./signals.ts";
import type { TaskMessage } from "./protocol.ts";

/**
 * How a task submitted with a callback hears of its end: `(true, values)`
 * or `(false, error)`. Called once, synchronously from the engine's own
 * code (not a microtask later, as a promise's reaction would be); what it
 * throws is rethrown in a microtask, as a reaction's error would surface.
 */
export type Settle = (ok: boolean, result: unknown) => void;

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
  /** Settles with the results of its calls, or the error (none where a callback was given). */
  readonly promise: Promise<unknown[]> | undefined;
  #resolve!: (values: unknown[]) => void;
  #reject!: (err: unknown) => void;
  #callback: Settle | undefined;
  #settled = false;

  /**
   * A task with the given id and message, watched on `signal` until it
   * settles; it tells `settle` of its end, or else its promise. A map of
   * tiny tasks spares a promise per task so (with its reaction and the
   * microtask that runs it).
   */
  constructor(
    readonly id: number,
    public message: TaskMessage,
    public stats: FnStats,
    readonly signal: AbortSignal | undefined,
    readonly watch: SignalWatch<PoolTask>,
    readonly onSettled: () => void,
    settle?: Settle,
  ) {
    if (settle) {
      this.#callback = settle;
      return;
    }
    this.promise = new Promise((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
  }

  /** Fulfils it (once; later settlements are ignored). */
  resolve(values: unknown[]): void {
    if (!this.#settle()) return;
    if (this.#callback) this.#call(true, values);
    else this.#resolve(values);
  }

  /** Rejects it (once; later settlements are ignored). */
  reject(err: unknown): void {
    if (!this.#settle()) return;
    if (this.#callback) this.#call(false, err);
    else this.#reject(err);
  }

  #call(ok: boolean, result: unknown): void {
    try {
      this.#callback!(ok, result);
    } catch (err) {
      // Not into the engine's loop over a worker's results.
      queueMicrotask(() => {
        throw err;
      });
    }
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
