/**
 * The pool's engine: its workers, their lifecycle, and the tasks' lives
 * from submission to result (`pool_task.ts`). Which worker runs which task
 * is the scheduler's part (`scheduler.ts`, over the queue of
 * `task_queue.ts`, with what it knows of tasks and workers in `task.ts`);
 * aborts are `signals.ts`'s; the protocol with a worker is `worker.ts`'s. `pool.ts` is the public facade over it (as
 * piscina's `Piscina` is over its `ThreadPool`): it checks arguments,
 * identifies task functions, and turns results into `AsyncResult`s.
 *
 * The engine never starts a process itself: the facade gives it a
 * {@link LaunchWorker} that starts one worker and its link (a pipe, or a
 * worker thread's own port: `port_link.ts`), so this layer stays below the
 * public `Process` and `Pipe`.
 *
 * @module
 */

import { logger } from "../base/log.ts";
import { BrokenPoolError, EOFError, ProcessError, WorkerDiedError } from "../base/errors.ts";
import { keepAlive, nextTurn, once } from "../base/async.ts";
import { errorFromData } from "../wire/error_data.ts";
import { descriptorsAt, hasHandles, type PackContext, packHandles } from "../hub/handles.ts";
import type { TargetRef } from "../process/target.ts";
import { Scheduler } from "./scheduler.ts";
import { type FnStats, newSlot, newStats, type Slot as SlotState, type Task } from "./task.ts";
import { PoolTask, type Settle } from "./pool_task.ts";
import { inSlices, SignalWatch } from "./signals.ts";
import { isFromWorker, type ToWorker } from "./protocol.ts";
import type { TaskMessage } from "./protocol.ts";

/** Grants, for tasks with handles: loaded with the first. */
const grants = once(() => import("../hub/grants.ts"));

export { IMAP_PER_WORKER, PER_WORKER } from "./scheduler.ts";
export type { Settle } from "./pool_task.ts";

/** A started pool worker, as the engine sees it. */
export interface WorkerProcess {
  readonly name: string;
  readonly pid: number | undefined;
  readonly exitCode: number | null;
  isAlive(): boolean;
  kill(): void;
  join(): Promise<void>;
}

/** The engine's end of a worker's link. */
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

/** Starts one pool worker (a thread's link is made first: then a promise). */
export type LaunchWorker = () => LaunchedWorker | Promise<LaunchedWorker>;

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
  /** The sandbox the workers share, when they are sandboxed: tasks bring grants for it. */
  sandbox?: string;
}

interface Slot extends SlotState {
  process: WorkerProcess;
  conn: WorkerConn & { send(value: ToWorker): Promise<void> };
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

/** How a worker ended, for an error message. */
function how(p: WorkerProcess): string {
  const c = p.exitCode;
  return c !== null && c < 0 ? `died with signal ${-c}` : `died with exit code ${c}`;
}

/** The pool's lifecycle, as Python's (RUN, CLOSE, TERMINATE). */
export type PoolState = "run" | "close" | "terminate";

/** Workers, the tasks' lives, and the scheduler between them. */
export class PoolEngine {
  #options: EngineOptions;
  #state: PoolState = "run";
  #slots = new Set<Slot>();
  #starting = new Set<Promise<void>>();
  #scheduler: Scheduler;
  #signals = new SignalWatch<PoolTask>((tasks, reason) => this.#aborted(tasks, reason));
  /** Per function (the facade keeps one ref per function): how long its calls take. */
  #stats = new WeakMap<TargetRef, FnStats>();
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
  // An unsettled task keeps the program alive; an idle pool (its workers
  // daemonic, their connections unref'd) does not.
  #unsettled = 0;
  #release: (() => void) | undefined;
  #settled = () => {
    if (--this.#unsettled === 0) this.#release?.();
  };

  /** Starts the workers. */
  constructor(options: EngineOptions) {
    this.#options = options;
    this.#scheduler = new Scheduler(options.maxTasksPerChild, () => this.#dispatch());
    for (let i = 0; i < options.processes; i++) this.#spawn();
  }

  /** Where the pool is in its lifecycle. */
  get state(): PoolState {
    return this.#state;
  }

  #spawn(): void {
    const launched = this.#options.launch();
    this.#live++;
    const failed = (err: unknown) => {
      this.#startFailed(err as Error);
      this.#gone();
    };
    const starting = Promise.resolve(launched).then(({ process, conn, started }) => {
      const slot: Slot = { ...newSlot(conn), process, conn, ready: false, label: process.name };
      return started.then(
        () => {
          this.#slots.add(slot);
          this.#receive(slot);
          // Terminated while it started: it goes at once.
          if (this.#state === "terminate") this.#kill(slot);
          else this.#dispatch();
        },
        (err) => {
          conn.close();
          failed(err);
        },
      );
    }, failed).finally(() => this.#starting.delete(starting));
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
      this.#fail(this.#scheduler.queue.drain(), this.#broken);
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
    return this.#state === "run" ||
      (this.#state === "close" && this.#scheduler.queue.size > 0);
  }

  async #receive(slot: Slot): Promise<void> {
    while (true) {
      let msg: unknown;
      try {
        msg = await slot.conn.recv();
      } catch (err) {
        if (!(err instanceof EOFError)) throw err;
        break;
      }
      // A worker that breaks the protocol is stopped (it fails what it
      // held, as a death does): nothing it sends can take the pool down.
      if (!isFromWorker(msg)) {
        this.#kill(slot);
        break;
      }
      if ("ready" in msg) {
        slot.ready = true;
        this.#failedStarts = 0;
      } else if ("initError" in msg) slot.initError = errorFromData(msg.initError);
      else if ("returned" in msg) this.#scheduler.returned(slot, msg.returned);
      else this.#scheduler.settle(slot, msg);
      this.#dispatch();
    }
    await this.#retire(slot);
  }

  /**
   * Stops a worker, and closes its end of their link: a killed worker
   * thread may never end (stuck in a synchronous loop), nor close its end.
   */
  #kill(slot: Slot): void {
    slot.process.kill();
    slot.conn.close();
  }

  /** A worker ended: fail what it held, and replace it if the pool goes on. */
  async #retire(slot: Slot): Promise<void> {
    this.#slots.delete(slot);
    slot.conn.close();
    await slot.process.join();
    const p = slot.process;
    const held = this.#scheduler.release(slot);
    if (!slot.ready) {
      // It never ran a task: what it held goes back, and it counts as a failed start.
      this.#scheduler.queue.giveBack(held.filter((t) => !t.done));
      this.#startFailed(
        slot.initError ??
          new WorkerDiedError(`Pool worker ${p.name} (pid ${p.pid}) ${how(p)} while starting`),
      );
      this.#dispatch();
      return this.#gone();
    }
    // A worker runs its tasks in the order it was sent them: the first it
    // held was running and fails; the others never started and are queued
    // again, first. (Not the lowest id: a task given back and sent again
    // runs after those sent before it.)
    const [running, ...rest] = held;
    const died = p.exitCode !== 0 || (running && !running.done);
    if (died) {
      logger().warning(
        `pool worker ${p.name} (pid ${p.pid}) ${how(p)}${
          running && !running.done ? " while running a task" : ""
        }`,
      );
    }
    if (running && !running.done) {
      running.reject(
        new WorkerDiedError(
          `Pool worker ${p.name} (pid ${p.pid}) ${how(p)} while running this task`,
        ),
      );
    }
    this.#scheduler.queue.giveBack(rest.filter((t) => !t.done));
    if (this.#wantsWorker()) this.#spawn();
    this.#dispatch();
    this.#gone();
  }

  /** One worker fewer; join() wakes when none is left. */
  #gone(): void {
    if (--this.#live > 0) return;
    this.#scheduler.stop();
    for (const wake of this.#idle.splice(0)) wake();
  }

  #fail(tasks: Task[], err: unknown): void {
    for (const t of tasks) t.reject(err);
  }

  /**
   * Dispatches once for all the tasks submitted in this turn of the event
   * loop, not of the microtask queue: `imap` submits an item per microtask
   * as its consumer frees room, and a dispatch for each sent a message per
   * task (measured: half the throughput of a batched map).
   */
  #scheduleDispatch(): void {
    if (this.#dispatchScheduled) return;
    this.#dispatchScheduled = true;
    nextTurn().then(() => {
      this.#dispatchScheduled = false;
      this.#dispatch();
    });
  }

  #dispatch(): void {
    if (this.#state === "terminate") return;
    this.#scheduler.dispatch(this.#slots, this.#starting.size);
    if (this.#state === "close") this.#stopIdle();
  }

  /**
   * After close(): once nothing is queued, or held unstarted by a worker
   * (an idle worker may yet take it over), idle workers are told to stop.
   */
  #stopIdle(): void {
    if (this.#scheduler.queue.size > 0) return;
    for (const slot of this.#slots) if (slot.held.size > 1) return;
    for (const slot of this.#slots) {
      if (slot.held.size > 0 || slot.retiring) continue;
      slot.retiring = true;
      slot.conn.send({ stop: true }).catch(() => {});
    }
  }

  /** The tasks of an aborted signal: never run if not started, failed a slice at a time. */
  #aborted(tasks: PoolTask[], reason: unknown): void {
    const live = tasks.filter((t) => !t.done);
    for (const t of live) t.done = true;
    this.#scheduler.cancel(live);
    inSlices(live, (t) => t.reject(reason));
  }

  /**
   * Queues a chunk of calls of `fn`, run by one worker in order: a call per
   * argument list of `calls` with `spread` (a starmap's, an apply's), a call
   * per item without (a map's); resolves their results.
   */
  submit(
    fn: TargetRef,
    calls: unknown[],
    spread = true,
    signal?: AbortSignal,
    plain?: boolean,
  ): Promise<unknown[]> {
    const refused = this.#refusal(signal);
    if (refused) return Promise.reject(refused.error);
    return this.#start(fn, calls, spread, signal, plain).promise!;
  }

  /**
   * Tells the scheduler that a map will submit `tasks` more tasks as its
   * window moves (see `Scheduler.backlog`); returns the function that
   * counts them off: one as each is submitted, the rest (no argument) once
   * the map has ended, whichever way.
   */
  expect(tasks: number): (one?: 1) => void {
    const sched = this.#scheduler;
    sched.backlog += tasks;
    return (one) => {
      const n = one ?? tasks;
      tasks -= n;
      sched.backlog -= n;
    };
  }

  /**
   * Queues a chunk as {@link PoolEngine.submit} does, and tells `settle` of
   * its end instead of returning a promise: a map of many tiny tasks has no
   * promise per task. A chunk refused at once (the pool closed or broken,
   * the signal aborted) is told so before this returns.
   */
  submitTo(
    fn: TargetRef,
    calls: unknown[],
    spread: boolean,
    settle: Settle,
    signal?: AbortSignal,
    plain?: boolean,
  ): void {
    const refused = this.#refusal(signal);
    if (refused) return settle(false, refused.error);
    this.#start(fn, calls, spread, signal, plain, settle);
  }

  /** Why a task submitted now is refused at once, if it is. */
  #refusal(signal: AbortSignal | undefined): { error: unknown } | undefined {
    if (this.#broken) return { error: this.#broken };
    if (this.#state !== "run") {
      return {
        error: new ProcessError(
          `Cannot submit task: the pool is ${this.#state === "close" ? "closed" : "terminated"}`,
        ),
      };
    }
    if (signal?.aborted) return { error: signal.reason };
    return undefined;
  }

  #start(
    fn: TargetRef,
    calls: unknown[],
    spread: boolean,
    signal: AbortSignal | undefined,
    plain: boolean | undefined,
    settle?: Settle,
  ): PoolTask {
    let stats = this.#stats.get(fn);
    if (!stats) this.#stats.set(fn, stats = newStats());
    const id = this.#nextId++;
    const message: TaskMessage = spread ? { id, fn, calls, spread } : { id, fn, calls };
    if (plain) message.plain = true;
    if (this.#unsettled++ === 0) this.#release = keepAlive();
    const task = new PoolTask(id, message, stats, signal, this.#signals, this.#settled, settle);
    if (signal) this.#signals.add(signal, task);
    this.#enqueue(task, calls);
    return task;
  }

  /** Queues `task` with its arguments, packed (a method, not a closure per task). */
  #queue(task: PoolTask, packed: unknown[]): void {
    task.message.calls = packed;
    if (task.done) return; // aborted while its arguments were packed
    if (this.#broken) return task.reject(this.#broken);
    this.#scheduler.queue.push(task);
    this.#scheduleDispatch();
  }

  #enqueue(task: PoolTask, calls: unknown[]): void {
    // Handles among the arguments travel as descriptors; most calls have none.
    const handles = hasHandles(calls);
    if (!handles && this.#packs === 0) return this.#queue(task, calls);
    task.exclusive = handles;
    this.#packs++;
    // Grants load with the first task that has handles.
    const packed = this.#packing.then(() =>
      Promise.all([packHandles(calls, this.#options.pack), grants()])
    );
    this.#packing = packed.then(
      ([p, { launchAccess }]) => {
        // Where the handles are goes beside the calls: nothing else in them is one;
        // keys of hosts with keys of their own go with the task, not in descriptors.
        if (p.handles) {
          task.message.handles = p.handles;
          const access = launchAccess(descriptorsAt(p.value, p.handles), this.#options.sandbox);
          if (access) task.message.access = access;
        }
        this.#queue(task, p.value);
      },
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
    this.#scheduler.stop();
    const doomed = this.#scheduler.queue.drain();
    for (const slot of this.#slots) {
      doomed.push(...this.#scheduler.release(slot));
      if (slot.process.isAlive()) this.#kill(slot);
    }
    const err = new ProcessError("The pool was terminated before this task finished");
    const live = doomed.filter((t) => !t.done);
    for (const t of live) t.done = true;
    inSlices(live, (t) => t.reject(err));
  }

  /**
   * Resolves once every worker ever started has been retired. The wait
   * keeps the program alive, as a Process's join does: a worker's last
   * words may be on their way over a link that does not (an idle pool's).
   */
  async join(): Promise<void> {
    if (this.#live === 0) return;
    const release = keepAlive();
    try {
      // Every worker ever spawned has been fully retired (exited, its tasks
      // settled, a replacement spawned if one was due) when #live is 0.
      while (this.#live > 0) {
        await new Promise<void>((resolve) => this.#idle.push(resolve));
      }
    } finally {
      release();
    }
  }
}
