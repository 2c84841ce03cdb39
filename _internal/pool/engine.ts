/**
 * The pool's engine: its workers, the queue of tasks, and the dispatch of
 * tasks to workers in batches. `pool.ts` is the public facade over it (as
 * piscina's `Piscina` is over its `ThreadPool`): it checks arguments,
 * identifies task functions, and turns results into `AsyncResult`s.
 *
 * The engine never starts a process itself: the facade gives it a
 * {@link LaunchWorker} that starts one worker and its pipe, so this layer
 * stays below the public `Process` and `Pipe`.
 *
 * @module
 */

import { BrokenPoolError, EOFError, ProcessError, WorkerDiedError } from "../base/errors.ts";
import { onAbort } from "../base/async.ts";
import { hasHandles, type PackContext, packHandles } from "../hub/handles.ts";
import { type ErrorData, errorFromData } from "../wire/error_data.ts";
import type { TargetRef } from "../process/target.ts";
import type { TaskMessage } from "./worker.ts";

/** A started pool worker, as the engine sees it. */
export interface WorkerProcess {
  readonly name: string;
  readonly pid: number | undefined;
  readonly exitCode: number | null;
  isAlive(): boolean;
  kill(): void;
  join(): Promise<void>;
}

/** The engine's end of a worker's pipe. */
export interface WorkerConn {
  send(value: unknown): Promise<void>;
  /** The next message; rejects with `EOFError` once the worker's end is closed. */
  recv(): Promise<unknown>;
  close(): void;
}

/** A worker being started: it is usable once `started` resolves. */
export interface LaunchedWorker {
  process: WorkerProcess;
  conn: WorkerConn;
  started: Promise<void>;
}

/** Starts one pool worker. */
export type LaunchWorker = () => LaunchedWorker;

/** What the engine needs to know. */
export interface EngineOptions {
  /** The number of workers. */
  processes: number;
  /** Tasks a worker runs before it is replaced; 0 for no limit. */
  maxTasksPerChild: number;
  /** Where task arguments go: a worker of this process shares memory. */
  pack: PackContext;
  /** Starts a worker. */
  launch: LaunchWorker;
}

interface Task {
  id: number;
  message: TaskMessage;
  resolve(values: unknown[]): void;
  reject(err: unknown): void;
  /**
   * Its arguments hold handles (queues, locks, pipes, proxies): it may wait
   * on another task, so it runs as in Python's pool, on a worker with
   * nothing else, and nothing queues behind it there.
   */
  exclusive?: boolean;
}

interface Slot {
  process: WorkerProcess;
  conn: WorkerConn;
  inflight: Map<number, Task>;
  sent: number;
  /** It runs an exclusive task (see {@link Task.exclusive}). */
  exclusive: boolean;
  /** Its initializer has run: until then, its death is a failed start. */
  ready: boolean;
  /** Why its initializer failed, as it reported. */
  initError?: Error;
}

/**
 * Consecutive failed starts, with no worker alive, after which the pool is
 * broken (each retried after {@link backoff}).
 */
const MAX_FAILED_STARTS = 3;

/** The wait before retrying a start after `failures` in a row: 100 ms doubling, at most 1 s. */
function backoff(failures: number): number {
  return Math.min(100 * 2 ** (failures - 1), 1000);
}

/** What a worker sends: that it is ready, why its initializer failed, results. */
interface WorkerMessage {
  ready?: boolean;
  initError?: ErrorData;
  results?: { id: number; value?: unknown[]; error?: ErrorData }[];
}

/** How a worker ended, for an error message. */
function how(p: WorkerProcess): string {
  const c = p.exitCode;
  return c !== null && c < 0 ? `died with signal ${-c}` : `died with exit code ${c}`;
}

/** Tasks a worker holds at once: one running, the rest waiting there (cheaper per task). */
export const PER_WORKER = 64;

/** The pool's lifecycle, as Python's (RUN, CLOSE, TERMINATE). */
export type PoolState = "run" | "close" | "terminate";

/** Workers, a task queue and the dispatch between them. */
export class PoolEngine {
  #options: EngineOptions;
  #state: PoolState = "run";
  #slots = new Set<Slot>();
  #starting = new Set<Promise<void>>();
  #queue: Task[] = [];
  #nextId = 1;
  #live = 0;
  #dispatchScheduled = false;
  // Tasks whose arguments hold handles are packed (async) in submission
  // order, and tasks submitted meanwhile queue behind them.
  #packing: Promise<void> = Promise.resolve();
  #packs = 0;
  #idle: (() => void)[] = [];
  #failedStarts = 0;
  #broken: BrokenPoolError | undefined;

  /** Starts the workers. */
  constructor(options: EngineOptions) {
    this.#options = options;
    for (let i = 0; i < options.processes; i++) this.#spawn();
  }

  /** Where the pool is in its lifecycle. */
  get state(): PoolState {
    return this.#state;
  }

  #spawn(): void {
    const { process, conn, started } = this.#options.launch();
    const slot: Slot = {
      process,
      conn,
      inflight: new Map(),
      sent: 0,
      exclusive: false,
      ready: false,
    };
    this.#live++;
    const starting = started.then(
      () => {
        this.#slots.add(slot);
        this.#receive(slot);
        // Terminated while it started: it goes at once.
        if (this.#state === "terminate") process.kill();
        else this.#dispatch();
      },
      (err) => {
        conn.close();
        this.#startFailed(err as Error);
        this.#gone();
      },
    ).finally(() => this.#starting.delete(starting));
    this.#starting.add(starting);
  }

  /**
   * A worker failed to start, or died (or its initializer failed) before it
   * was ready: no task ran there. Another start is tried after a backoff;
   * after {@link MAX_FAILED_STARTS} in a row with no worker alive, the pool
   * is broken, and queued and later tasks fail with the last start's error.
   */
  #startFailed(err: Error): void {
    const failures = ++this.#failedStarts;
    if (failures >= MAX_FAILED_STARTS && this.#slots.size === 0) {
      this.#broken = new BrokenPoolError(
        `Cannot run tasks: ${failures} pool worker starts failed in a row; the last: ${err.message}`,
        { cause: err },
      );
      this.#fail(this.#queue.splice(0), this.#broken);
      return;
    }
    if (!this.#wantsWorker()) return;
    this.#live++; // The retry is a worker to come: join() waits for it.
    setTimeout(() => {
      this.#gone();
      if (this.#wantsWorker() && !this.#broken) this.#spawn();
    }, backoff(failures));
  }

  /** Whether a worker that went should be replaced. */
  #wantsWorker(): boolean {
    return this.#state === "run" || (this.#state === "close" && this.#queue.length > 0);
  }

  async #receive(slot: Slot): Promise<void> {
    while (true) {
      let msg: WorkerMessage;
      try {
        msg = await slot.conn.recv() as WorkerMessage;
      } catch (err) {
        if (!(err instanceof EOFError)) throw err;
        break;
      }
      if (msg.ready) {
        slot.ready = true;
        this.#failedStarts = 0;
      }
      if (msg.initError) slot.initError = errorFromData(msg.initError);
      for (const r of msg.results ?? []) {
        const task = slot.inflight.get(r.id);
        slot.inflight.delete(r.id);
        if (slot.inflight.size === 0) slot.exclusive = false;
        if (r.error) task?.reject(errorFromData(r.error));
        else task?.resolve(r.value!);
      }
      this.#dispatch();
    }
    await this.#retire(slot);
  }

  /** A worker ended: fail what it held, and replace it if the pool goes on. */
  async #retire(slot: Slot): Promise<void> {
    this.#slots.delete(slot);
    slot.conn.close();
    await slot.process.join();
    const p = slot.process;
    if (!slot.ready) {
      // It never ran a task: what it held goes back, and it counts as a failed start.
      this.#queue.unshift(...[...slot.inflight.values()].sort((a, b) => a.id - b.id));
      this.#startFailed(
        slot.initError ??
          new WorkerDiedError(`Pool worker ${p.name} (pid ${p.pid}) ${how(p)} while starting`),
      );
      if (this.#state === "close") this.#stopIdle();
      return this.#gone();
    }
    // A worker runs its tasks in order: the oldest it held was running and
    // fails; the others never started and go back to the front of the queue.
    const held = [...slot.inflight.values()].sort((a, b) => a.id - b.id);
    if (held.length > 0) {
      held[0].reject(
        new WorkerDiedError(
          `Pool worker ${p.name} (pid ${p.pid}) ${how(p)} while running this task`,
        ),
      );
      this.#queue.unshift(...held.slice(1));
    }
    if (this.#wantsWorker()) this.#spawn();
    else if (this.#state === "close") this.#stopIdle();
    this.#gone();
  }

  /** One worker fewer; join() wakes when none is left. */
  #gone(): void {
    if (--this.#live === 0) { for (const wake of this.#idle.splice(0)) wake(); }
  }

  #fail(tasks: Task[], err: unknown): void {
    for (const t of tasks) t.reject(err);
  }

  /** Dispatches once for all the tasks submitted in this turn. */
  #scheduleDispatch(): void {
    if (this.#dispatchScheduled) return;
    this.#dispatchScheduled = true;
    queueMicrotask(() => {
      this.#dispatchScheduled = false;
      this.#dispatch();
    });
  }

  /** Sends queued tasks to workers with room, a few per message. */
  #dispatch(): void {
    // A worker takes a slice of what is queued (a quarter of its share,
    // counting workers still starting), not all it could hold: tasks of
    // uneven cost keep spreading as workers finish theirs.
    const workers = this.#slots.size + this.#starting.size;
    for (const slot of this.#slots) {
      const limit = this.#options.maxTasksPerChild;
      const share = Math.max(1, Math.ceil(this.#queue.length / (workers * 4)));
      const room = Math.min(
        PER_WORKER - slot.inflight.size,
        share,
        limit === 0 ? Infinity : limit - slot.sent,
      );
      if (room <= 0 || this.#queue.length === 0) continue;
      const batch = this.#take(slot, room);
      if (batch.length === 0) continue;
      for (const t of batch) slot.inflight.set(t.id, t);
      slot.sent += batch.length;
      slot.conn.send({ tasks: batch.map((t) => t.message) }).catch((err) => {
        for (const t of batch) slot.inflight.delete(t.id);
        this.#fail(batch, err);
      });
    }
    if (this.#state === "close") this.#stopIdle();
  }

  /**
   * Takes up to `room` tasks from the head of the queue for `slot`, in
   * order: a run of ordinary tasks, or one exclusive task for a worker that
   * holds nothing (which then holds nothing else while it runs).
   */
  #take(slot: Slot, room: number): Task[] {
    if (slot.exclusive) return [];
    if (this.#queue[0].exclusive) {
      if (slot.inflight.size > 0) return [];
      slot.exclusive = true;
      return this.#queue.splice(0, 1);
    }
    let n = 0;
    while (n < room && n < this.#queue.length && !this.#queue[n].exclusive) n++;
    return this.#queue.splice(0, n);
  }

  /** After close(): workers with nothing left to do are told to stop. */
  #stopIdle(): void {
    if (this.#queue.length > 0) return;
    for (const slot of this.#slots) {
      if (slot.inflight.size === 0) slot.conn.send({ stop: true }).catch(() => {});
    }
  }

  /**
   * Queues a call of `fn` per argument list of `calls` (a chunk of a map),
   * run by one worker in order; resolves their results.
   */
  submit(fn: TargetRef, calls: unknown[][], signal?: AbortSignal): Promise<unknown[]> {
    if (this.#broken) return Promise.reject(this.#broken);
    if (this.#state !== "run") {
      return Promise.reject(
        new ProcessError(
          `Cannot submit task: the pool is ${this.#state === "close" ? "closed" : "terminated"}`,
        ),
      );
    }
    if (signal?.aborted) return Promise.reject(signal.reason);
    return new Promise<unknown[]>((resolve, reject) => {
      const id = this.#nextId++;
      const task: Task = { id, message: { id, fn, calls }, resolve, reject };
      const off = onAbort(signal, (reason) => {
        const i = this.#queue.indexOf(task);
        if (i >= 0) this.#queue.splice(i, 1);
        // Running: it is failed now; its result, when it comes, is dropped.
        reject(reason);
      });
      task.resolve = (v) => (off(), resolve(v));
      task.reject = (e) => (off(), reject(e));
      this.#enqueue(task, calls);
    });
  }

  #enqueue(task: Task, calls: unknown[][]): void {
    const queue = (packed: unknown[][]) => {
      task.message.calls = packed;
      if (this.#broken) return task.reject(this.#broken);
      this.#queue.push(task);
      this.#scheduleDispatch();
    };
    // Handles among the arguments travel as descriptors; most calls have none.
    const handles = hasHandles(calls);
    if (!handles && this.#packs === 0) return queue(calls);
    task.exclusive = handles;
    this.#packs++;
    const packed = this.#packing.then(() => packHandles(calls, this.#options.pack));
    this.#packing = packed.then(
      (p) => queue(p),
      (err) => task.reject(err),
    ).finally(() => this.#packs--);
  }

  /** No more tasks; workers exit once the queued ones are done. Idempotent. */
  close(): void {
    if (this.#state !== "run") return;
    this.#state = "close";
    this.#stopIdle();
  }

  /** Stops every worker now; queued and running tasks fail. Idempotent. */
  terminate(): void {
    if (this.#state === "terminate") return;
    this.#state = "terminate";
    const err = new ProcessError("The pool was terminated before this task finished");
    this.#fail(this.#queue.splice(0), err);
    for (const slot of this.#slots) {
      this.#fail([...slot.inflight.values()], err);
      slot.inflight.clear();
      if (slot.process.isAlive()) slot.process.kill();
    }
  }

  /** Resolves once every worker ever started has been retired. */
  async join(): Promise<void> {
    // Every worker ever spawned has been fully retired (exited, its tasks
    // settled, a replacement spawned if one was due) when #live is 0.
    while (this.#live > 0) {
      await new Promise<void>((resolve) => this.#idle.push(resolve));
    }
  }
}
