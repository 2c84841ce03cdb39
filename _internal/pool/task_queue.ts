/**
 * The pool's queue of tasks not yet on a worker: first in, first out, with
 * tasks given back (by a worker that died, or that was asked for what it
 * had not started) ahead of the rest, oldest first.
 *
 * Every operation is O(1) amortized (a given-back task O(log k) among the
 * k given back): the queue was an array spliced at its head for each batch
 * and searched for each aborted task, which made a map of a million tasks
 * spend most of its time moving the array (issue #15).
 *
 * @module
 */

/** What the queue needs of a task. */
export interface Queueable {
  /** Order of submission: given-back tasks go out lowest first. */
  readonly id: number;
  /** Whether it waits in the queue; anything else is skipped (a removed task). */
  queued: boolean;
}

/** Past this many skipped entries at its head, the array drops them. */
const COMPACT_AT = 1024;

/** A FIFO of tasks, with given-back tasks first; see the module doc. */
export class TaskQueue<T extends Queueable> {
  #items: (T | undefined)[] = [];
  #head = 0;
  /** Given-back tasks, highest id first, so that the next is at the end. */
  #back: T[] = [];
  #size = 0;

  /** Tasks waiting (removed ones not counted). */
  get size(): number {
    return this.#size;
  }

  /** Adds a task at the tail. */
  push(task: T): void {
    task.queued = true;
    this.#items.push(task);
    this.#size++;
  }

  /** Puts tasks back ahead of every pushed one, in order of their ids. */
  giveBack(tasks: Iterable<T>): void {
    for (const task of tasks) {
      task.queued = true;
      this.#size++;
      // Binary search: #back is short (at most what the workers held).
      let lo = 0, hi = this.#back.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (this.#back[mid].id > task.id) lo = mid + 1;
        else hi = mid;
      }
      this.#back.splice(lo, 0, task);
    }
  }

  /** The next task, left in the queue; undefined when empty. */
  peek(): T | undefined {
    while (this.#back.length > 0 && !this.#back.at(-1)!.queued) this.#back.pop();
    if (this.#back.length > 0) return this.#back.at(-1);
    while (this.#head < this.#items.length) {
      const task = this.#items[this.#head]!;
      if (task.queued) return task;
      this.#drop();
    }
    return undefined;
  }

  /** Takes the next task; undefined when empty. */
  shift(): T | undefined {
    const task = this.peek();
    if (!task) return undefined;
    if (this.#back.length > 0) this.#back.pop();
    else this.#drop();
    task.queued = false;
    this.#size--;
    return task;
  }

  /** Removes a queued task, in O(1): it stays in the array, skipped when reached. */
  remove(task: T): void {
    if (!task.queued) return;
    task.queued = false;
    this.#size--;
  }

  /** Takes every task, in queue order. */
  drain(): T[] {
    const out: T[] = [];
    for (let t = this.shift(); t; t = this.shift()) out.push(t);
    return out;
  }

  /** Moves past the head entry, dropping the consumed part of the array now and then. */
  #drop(): void {
    this.#items[this.#head++] = undefined;
    if (this.#head >= COMPACT_AT && this.#head * 2 >= this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
  }
}
