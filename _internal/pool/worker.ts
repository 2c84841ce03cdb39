/**
 * The target every pool worker runs: it receives tasks from its link to
 * the pool (a pipe; a worker thread's own message port, `port_link.ts`),
 * runs them one at a time in the order received, and sends back each
 * result (or error, as data) as its task finishes. It returns (and so its
 * process exits) when told to stop, when its link closes, or after
 * `maxTasks` tasks.
 *
 * The protocol on the link (the engine's side is `engine.ts` and
 * `scheduler.ts`):
 *
 * - parent → worker `{ tasks, fns, per }`: tasks to run after those already
 *   held (a batch, each task naming its function by its index in `fns`; a
 *   worker may hold several).
 * - parent → worker `{ reclaim: ids }`: give back those of these tasks not
 *   yet started. Messages are read while tasks run, so this is seen between
 *   two tasks (or at once, while a task awaits).
 * - parent → worker `{ stop: true }`: exit (sent when it holds nothing).
 * - worker → parent `{ results, t }`: outcomes of finished tasks, in the
 *   order run, and `t`, the milliseconds they ran (the scheduler's
 *   measurement). Results wait for company only while more of the same
 *   batch follow and for at most {@link FLUSH_MS}.
 * - worker → parent `{ returned: ids }`: tasks given back unstarted, when
 *   asked, or unasked after a task that ran {@link OVERRUN_MS} past what the
 *   pool expected (a batch says so per function, when it knows): the
 *   pool measured its function on small arguments, and what it sent with
 *   it goes back for idle workers (after that task's result, which tells
 *   the pool), rather than once a reclaim reaches this worker after its
 *   next task.
 * - worker → parent `{ ready: true }` first, once the pool's initializer
 *   ran, or `{ initError }` (then it exits): until it is ready, a worker's
 *   death is a failed start, and no task it held ran.
 *
 * Between tasks, at least every {@link YIELD_MS}, the worker lets its event
 * loop turn and waits until what it sent is written: a run of synchronous
 * tasks would otherwise hold every result (and the memory) until the last
 * one ended, and never see a `reclaim`.
 *
 * @module
 */

import { errorToData } from "../wire/error_data.ts";
import { WorkerExit } from "../process/worker_exit.ts";
import { state } from "../base/state.ts";
import type { TargetRef } from "../process/target.ts";
import { drainClients } from "../hub/client.ts";
import { turn } from "../base/async.ts";
import { SEND_TAKEN } from "../base/symbols.ts";
import { valueNow } from "../hub/handles.ts";
import { expectedMs, resolveTarget, runTask } from "./run_task.ts";
import { ModuleGate } from "./seal.ts";
import { PortLink } from "./port_link.ts";

import {
  fromBatch,
  type FromWorker,
  type Result,
  type Results,
  type TaskBatch,
  type TaskMessage,
  type ToWorker,
} from "./protocol.ts";

/** What a worker's link looks like here (a pipe's `Connection`, or a {@link PortLink}). */
interface Conn {
  recv(): Promise<unknown>;
  send(value: unknown): Promise<void>;
  /** Sends what was taken already (results are taken as their task ends). */
  [SEND_TAKEN]?(value: unknown): Promise<void>;
  close(): void;
}

/** Results wait at most this long (ms) for those of the rest of their batch. */
export const FLUSH_MS = 1;
/** The worker lets its event loop turn at least this often (ms) between tasks. */
export const YIELD_MS = 1;

/**
 * A task that ran this much longer (ms) than the pool expected gives back
 * what its worker holds unstarted (see the module doc): the pool's
 * `QUIET_MS`, past which it takes a worker for overdue.
 */
export const OVERRUN_MS = 10;

/** A subprocess worker looks for its parent at most this often (ms) between tasks. */
const PARENT_LOOK_MS = 1;

/**
 * Whether the parent process is gone, as of `now`: a subprocess worker's
 * parent pid changes when its parent dies. A look is a system call (about
 * 1 µs in a fresh worker: 12% of its time in a map of no-op tasks when it
 * looked before every task), so it looks once {@link PARENT_LOOK_MS} have
 * passed since the last. A worker thread dies with its process.
 */
function parentWatch(): (now: number) => boolean {
  if (state().isWorker) return () => false;
  const ppid = Deno.ppid;
  let next = 0;
  return (now) => {
    if (now < next) return false;
    next = now + PARENT_LOOK_MS;
    return Deno.ppid !== ppid;
  };
}

/**
 * A task's result as it is when the task ends (`valueNow`): results wait
 * for their batch's, and a later task may change what an earlier one
 * returned (a list it keeps). Python pickles a result as its task ends too.
 * A value that cannot be cloned fails its task alone.
 */
function takenNow(result: Result): Result {
  const values = result.value;
  // The list is this worker's own (run_task.ts): of primitives only, most
  // results, it is taken as it is, without a copy.
  if (values === undefined || values.every(isPrimitive)) return result;
  try {
    result.value = valueNow(values);
    return result;
  } catch (err) {
    return { id: result.id, error: errorToData(err) };
  }
}

/** Not an object, a function or a symbol: nothing a later task can change. */
function isPrimitive(v: unknown): boolean {
  return typeof v !== "object" && typeof v !== "function" && typeof v !== "symbol" || v === null;
}

/** The reply itself, or an error in its place when its value cannot be cloned. */
function clonable(reply: Result): Result {
  try {
    structuredClone(reply);
    return reply;
  } catch (err) {
    return { id: reply.id, error: errorToData(err) };
  }
}

/** A held task; `last` marks the end of its batch; `e`, what it should take (ms, NaN: unknown). */
interface Entry {
  task: TaskMessage;
  last: boolean;
  e: number;
}

/** Tasks received and not started, in order; and whether more can come. */
class Held {
  #entries: Entry[] = [];
  #head = 0;
  /** Why no more tasks come: told to stop, or the pool's end of the link closed. */
  ended: "stop" | "eof" | undefined;
  #waiter: (() => void) | undefined;

  push(batch: TaskBatch): void {
    const tasks = fromBatch(batch);
    tasks.forEach((task, i) =>
      this.#entries.push({ task, last: i === tasks.length - 1, e: expectedMs(batch, task) })
    );
    this.#wake();
  }

  end(why: "stop" | "eof"): void {
    this.ended ??= why;
    this.#wake();
  }

  #wake(): void {
    this.#waiter?.();
    this.#waiter = undefined;
  }

  get empty(): boolean {
    return this.#head === this.#entries.length;
  }

  /** Resolves once there is a task, or no more will come. */
  async arrival(): Promise<void> {
    while (this.empty && !this.ended) await new Promise<void>((r) => this.#waiter = r);
  }

  /** The next task, if one is here and the pool still wants it. */
  shift(): Entry | undefined {
    if (this.empty || this.ended === "eof") return undefined;
    const entry = this.#entries[this.#head];
    this.#entries[this.#head++] = undefined as unknown as Entry;
    if (this.empty) {
      this.#entries = [];
      this.#head = 0;
    }
    return entry;
  }

  /** Removes every unstarted task; returns their ids. */
  takeAll(): number[] {
    const ids = this.#entries.slice(this.#head).map((e) => e.task.id);
    this.#entries = [];
    this.#head = 0;
    return ids;
  }

  /** Removes the unstarted tasks among `ids`; returns their ids. */
  take(ids: number[]): number[] {
    const wanted = new Set(ids);
    const kept: Entry[] = [], taken: number[] = [];
    for (let i = this.#head; i < this.#entries.length; i++) {
      const e = this.#entries[i];
      if (wanted.has(e.task.id)) taken.push(e.task.id);
      else kept.push(e);
    }
    // The batch of a taken last task ends with the one before it.
    if (kept.length > 0) kept[kept.length - 1].last = true;
    this.#entries = kept;
    this.#head = 0;
    return taken;
  }
}

/** Reads the link beside the tasks: new tasks, reclaims, stop, its end. */
async function receive(conn: Conn, held: Held): Promise<void> {
  while (!held.ended) {
    let msg: ToWorker;
    try {
      msg = await conn.recv() as ToWorker;
    } catch {
      return held.end("eof"); // The pool is gone: its end of the link closed.
    }
    if ("tasks" in msg) held.push(msg);
    else if ("reclaim" in msg) {
      const returned = held.take(msg.reclaim);
      if (returned.length > 0) conn.send({ returned }).catch(() => {});
    } else if ("stop" in msg) held.end("stop");
  }
}

/** Results on their way back: see the module doc for when they go. */
class Outbox {
  #conn: Conn;
  #results: Result[] = [];
  #ms = 0;
  #flushed = performance.now();
  #yielded = performance.now();

  constructor(conn: Conn) {
    this.#conn = conn;
  }

  get pending(): boolean {
    return this.#results.length > 0;
  }

  add(result: Result, ms: number): void {
    this.#results.push(takenNow(result));
    this.#ms += ms;
  }

  /** Whether results waited long enough for company, as of `now`. */
  due(now: number): boolean {
    return now - this.#flushed >= FLUSH_MS;
  }

  /** Whether the event loop is due a turn, as of `now`. */
  yieldDue(now: number): boolean {
    return now - this.#yielded >= YIELD_MS;
  }

  async flush(): Promise<void> {
    const results = this.#results, t = this.#ms;
    this.#results = [];
    this.#ms = 0;
    this.#flushed = performance.now();
    const reply = { results, t } satisfies Results;
    try {
      // Taken as each task ended: not copied again.
      await (this.#conn[SEND_TAKEN] ? this.#conn[SEND_TAKEN](reply) : this.#conn.send(reply));
    } catch {
      // A result that cannot be cloned fails that task only.
      for (const r of results) await this.#conn.send({ results: [clonable(r)] } satisfies Results);
    }
  }

  /** Lets the event loop turn, once what was sent is written. */
  async pause(): Promise<void> {
    await drainClients();
    await turn();
    this.#yielded = performance.now();
  }
}

/**
 * Serves tasks until stopped. `init` is the pool's initializer, run once
 * before the first task; `sealKey` is the key of the seals on the modules
 * the pool sends (`seal.ts`): a task naming another module fails.
 */
export async function poolWorker(
  link: Conn | MessagePort,
  init: { fn: TargetRef; args: unknown[] } | null,
  maxTasks: number,
  sealKey: string,
): Promise<void> {
  // A thread's own port (`port_link.ts`), or a pipe end.
  const conn = link instanceof MessagePort ? new PortLink(link) : link;
  const gate = new ModuleGate(sealKey);
  try {
    if (init) await (await resolveTarget(init.fn, gate))(...init.args);
  } catch (err) {
    // Deno.exit() in a Web Worker's initializer ends it as a process exit
    // would; anything else the pool reports with the failed start.
    if (err instanceof WorkerExit) throw err;
    await conn.send({ initError: errorToData(err) } satisfies FromWorker).catch(() => {});
    return conn.close();
  }
  await conn.send({ ready: true } satisfies FromWorker);
  const parentGone = parentWatch();
  const held = new Held();
  receive(conn, held);
  const out = new Outbox(conn);
  let t0 = performance.now();
  for (let done = 0; maxTasks === 0 || done < maxTasks; done++) {
    let entry = held.shift();
    if (!entry) {
      if (out.pending) await out.flush();
      await held.arrival();
      entry = held.shift();
      if (!entry) break;
      t0 = performance.now();
    }
    // A synchronous task never lets this process read its stdin's end:
    // between two tasks, it looks for its parent itself.
    if (parentGone(t0)) Deno.exit(1);
    const ran = runTask(entry.task, gate);
    const result = ran instanceof Promise ? await ran : ran as Result;
    // One clock read per task: it ends this task's time and starts the next one's.
    const t1 = performance.now(), ms = t1 - t0;
    out.add(result, ms);
    t0 = t1;
    if (!entry.last && !held.empty && !out.due(t1) && !out.yieldDue(t1)) continue;
    await out.flush();
    // Far past what the pool expected: see OVERRUN_MS (NaN, unknown, never
    // is). Looked at after the pause, which reads what the pool sent while
    // the task ran (a successor sent as it was expected to end). Such a
    // task ran past YIELD_MS, so the pause was due. Holding nothing
    // otherwise, the worker does not pause: waiting for its next task
    // turns the event loop as well (measured, 64 tasks of 20 ms: 0.23 ms
    // between two tasks of a worker thread, where the pause made it 0.28).
    const overran = ms - entry.e >= OVERRUN_MS;
    if (out.yieldDue(t1) && (overran || !held.empty)) await out.pause();
    if (overran && !held.empty) {
      await conn.send({ returned: held.takeAll() } satisfies FromWorker).catch(() => {});
    }
    t0 = performance.now();
  }
  if (held.ended === "eof") return;
  if (out.pending) await out.flush();
  conn.close();
}
