/**
 * The messages between the pool's engine and its workers (described in
 * `worker.ts`), and the check of what a worker sends: the engine loads
 * this, not the worker's loop.
 *
 * @module
 */

import type { ErrorData } from "../wire/error_data.ts";
import type { TargetRef } from "../process/target.ts";
import type { Path } from "../hub/paths.ts";
import type { LaunchKey } from "../hub/host_keys.ts";
import type { Access } from "../hub/grants.ts";

/** One task, as the pool holds it. */
export interface TaskMessage {
  /** The task's id in the pool. */
  id: number;
  /** The function. */
  fn: TargetRef;
  /**
   * One entry per call (a chunk of a map): its one argument, or, with
   * `spread`, its argument list. A map's items go as they are: wrapping
   * each in an array cost a map of a million items 78 MiB.
   */
  calls: unknown[];
  /** Each entry of `calls` is an argument list. */
  spread?: true;
  /** Where handles are in `calls` (packed into descriptors); absent when there are none. */
  handles?: Path[];
  /**
   * For those handles' hosts: the keys of those with keys of their own, or,
   * for a sandboxed pool, the workers' keys and grants there (`hub/grants.ts`).
   */
  access?: (LaunchKey | Access)[];
  /** Results may hold objects of a user's class, copied as plain data (`clone: "plain"`). */
  plain?: true;
}

/**
 * One task as it crosses to a worker, in a batch: its function is `f`, an
 * index into the batch's functions. Naming each function once per batch
 * made a batch of 64 no-op tasks about 5x smaller (a function's module URL,
 * name and fingerprint were most of each task's bytes, encoded, written,
 * read and decoded once per task).
 */
export type WireTask = Omit<TaskMessage, "fn"> & { f: number };

/**
 * A batch of tasks as it crosses: each task's function is `fns[task.f]`,
 * and `per[task.f]` the milliseconds the pool expects one of its calls to
 * take (null while it does not know; see `worker.ts`). Once per function,
 * not per task: a number in each task made a map's batches about 60%
 * larger, and a no-op map 0.85x as fast.
 */
export interface TaskBatch {
  tasks: WireTask[];
  fns: TargetRef[];
  per?: (number | null)[];
}

/** The batch tasks go in, with what their functions' calls are expected to take (NaN: unknown). */
export function toBatch(sent: { message: TaskMessage; stats: { perCall: number } }[]): TaskBatch {
  const fns: TargetRef[] = [];
  const per: (number | null)[] = [];
  const tasks = sent.map(({ message: m, stats }) => {
    let f = fns.indexOf(m.fn);
    if (f < 0) {
      f = fns.push(m.fn) - 1;
      per.push(Number.isNaN(stats.perCall) ? null : stats.perCall);
    }
    const t: WireTask = { id: m.id, f, calls: m.calls };
    if (m.spread) t.spread = true;
    if (m.handles) t.handles = m.handles;
    if (m.access) t.access = m.access;
    if (m.plain) t.plain = true;
    return t;
  });
  return { tasks, fns, per };
}

/** The tasks of a batch received, each given its function again. */
export function fromBatch(batch: TaskBatch): TaskMessage[] {
  const tasks = batch.tasks as (WireTask & { fn?: TargetRef })[];
  for (const t of tasks) t.fn = batch.fns[t.f];
  return tasks as unknown as TaskMessage[];
}

/** One task's outcome: its results, or its error. */
export interface Result {
  id: number;
  value?: unknown[];
  error?: ErrorData;
}

/** What the engine sends a worker. */
export type ToWorker = TaskBatch | { reclaim: number[] } | { stop: true };

/** Finished tasks, and the milliseconds they ran. */
export interface Results {
  results: Result[];
  t?: number;
}

/** What a worker sends the engine. */
export type FromWorker =
  | Results
  | { returned: number[] }
  | { ready: true }
  | { initError: ErrorData };

function isPlain(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && Object.getPrototypeOf(v) === Object.prototype;
}

function isResult(r: unknown): r is Result {
  return isPlain(r) && Number.isSafeInteger(r.id) &&
    (r.value === undefined || Array.isArray(r.value)) &&
    (r.error === undefined || (isPlain(r.error) && typeof r.error.message === "string"));
}

/**
 * Whether a message from a worker has the protocol's shape: the engine
 * stops a worker that sends anything else, rather than fail on it.
 */
export function isFromWorker(m: unknown): m is FromWorker {
  if (!isPlain(m)) return false;
  if ("results" in m) {
    return Array.isArray(m.results) && m.results.every(isResult) &&
      (m.t === undefined || typeof m.t === "number");
  }
  if ("returned" in m) return Array.isArray(m.returned) && m.returned.every(Number.isSafeInteger);
  if ("initError" in m) return isPlain(m.initError) && typeof m.initError.message === "string";
  return m.ready === true;
}
