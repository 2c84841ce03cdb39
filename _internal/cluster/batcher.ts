/**
 * Groups a pool's tasks into task messages: tasks of one function submitted
 * in one turn of the event loop (a map's chunks, a loop of `applyAsync`)
 * share messages, each of about a quarter of the agents' slots' share, so
 * that a map still spreads over every agent, at most {@link MAX_TASKS}.
 *
 * @module
 */

import type { FnRef } from "./protocol.ts";
import type { Submitter, TaskHandle } from "./submitter.ts";
import { nextTurn } from "./timing.ts";

/** Most tasks in one message. */
export const MAX_TASKS = 256;

/** A task as a pool submits it. */
export interface Task extends TaskHandle {
  ref: FnRef & { base?: string };
  promise: Promise<unknown[]>;
}

/** One pool's grouping of tasks into messages. */
export class Batcher {
  #submitter: Submitter;
  #subject: string;
  #slots: () => number;
  #groups = new Map<string, Task[]>();
  #timer: (() => void) | undefined;
  #inflight = new Set<Promise<void>>();

  constructor(submitter: Submitter, subject: string, slots: () => number) {
    this.#submitter = submitter;
    this.#subject = subject;
    this.#slots = slots;
  }

  /** Queues a task; it is published at the end of this turn. */
  add(task: Task): void {
    const key = `${task.ref.exportName}\n${task.ref.fingerprint}\n${task.ref.module}`;
    let group = this.#groups.get(key);
    if (!group) this.#groups.set(key, group = []);
    group.push(task);
    // The next turn, not a microtask: `for await` over an input yields between items.
    this.#timer ??= nextTurn(() => this.#flush());
  }

  #flush(): void {
    this.#timer = undefined;
    const groups = [...this.#groups.values()];
    this.#groups.clear();
    for (const group of groups) {
      const tasks = group.filter((t) => !t.settled);
      const per = Math.min(MAX_TASKS, Math.max(1, Math.ceil(tasks.length / (4 * this.#slots()))));
      for (let i = 0; i < tasks.length; i += per) {
        const part = tasks.slice(i, i + per);
        const { base: _, ...ref } = part[0].ref;
        const p = this.#submitter.publish(this.#subject, ref, part);
        this.#inflight.add(p);
        p.finally(() => this.#inflight.delete(p));
      }
    }
  }

  /** Tasks the pool settled itself (aborted): their messages go if nothing in them is left. */
  dropped(tasks: TaskHandle[]): void {
    this.#submitter.dropped(tasks);
  }

  /** Drops everything: unpublished tasks stay so, published ones are deleted from the stream. */
  terminate(tasks: TaskHandle[]): void {
    this.#timer?.();
    this.#timer = undefined;
    this.#groups.clear();
    this.#submitter.dropped(tasks);
  }

  /** Resolves once nothing is waiting to be published. */
  async flushed(): Promise<void> {
    while (this.#timer !== undefined || this.#inflight.size > 0) {
      if (this.#timer !== undefined) {
        this.#timer();
        this.#flush();
      }
      await Promise.allSettled([...this.#inflight]);
    }
  }
}
