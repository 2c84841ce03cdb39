/**
 * Running one task in a pool worker: finding its function, reviving the
 * handles among its arguments, calling it once per argument list.
 *
 * This is the hot path of a pool of small tasks, so a task whose function
 * is known and whose calls return plain values runs without a single
 * `await` (measured: an `await` per call, the target looked up again for
 * every task, and a walk of the arguments for handles cost a no-op task
 * about as much as the rest of the worker loop).
 *
 * @module
 */

import { type AnyFn, locateTarget, type TargetRef } from "../process/target.ts";
import { WorkerExit } from "../process/worker_exit.ts";
import { errorToData } from "../wire/error_data.ts";
import { reviveAt } from "../hub/handles.ts";
import { useAccess } from "../hub/grants.ts";
import type { ModuleGate } from "./seal.ts";
import type { Result, TaskBatch, TaskMessage } from "./protocol.ts";
import { state } from "../base/state.ts";
import { checkPlain } from "../wire/plain.ts";

/** The milliseconds a batch's task is expected to take; NaN when the pool does not know. */
export function expectedMs(batch: TaskBatch, task: TaskMessage & { f?: number }): number {
  const per = batch.per?.[task.f!];
  return typeof per === "number" ? per * task.calls.length : NaN;
}

const modules = new Map<string, Promise<Record<string, unknown>>>();
/** Functions found, by module, export name and fingerprint. */
const found = new Map<string, AnyFn>();
/** Functions found, by the reference a batch named them with (its tasks share it). */
const byRef = new WeakMap<TargetRef, AnyFn>();

function keyOf(ref: TargetRef): string {
  return `${ref.module}\n${ref.exportName}\n${ref.fingerprint}`;
}

/**
 * Imports the function's module (once, and only when `gate` says the pool
 * vouched for it) and finds the function in it.
 */
export async function resolveTarget(ref: TargetRef, gate: ModuleGate): Promise<AnyFn> {
  gate.check(ref);
  let mod = modules.get(ref.module);
  if (!mod) modules.set(ref.module, mod = import(ref.module));
  const fn = await locateTarget(await mod, ref, "run task");
  found.set(keyOf(ref), fn);
  return fn;
}

function call(task: TaskMessage, fn: AnyFn, i: number): unknown {
  return task.spread ? fn(...task.calls[i] as unknown[]) : fn(task.calls[i]);
}

/** A result, checked as `clone: "strict"` wants (primitives cost a typeof). */
function checked(task: TaskMessage, v: unknown): unknown {
  if (!task.plain && typeof v === "object" && v !== null) checkPlain(v, "result");
  return v;
}

function isThenable(v: unknown): v is PromiseLike<unknown> {
  return (typeof v === "object" && v !== null || typeof v === "function") &&
    typeof (v as { then?: unknown }).then === "function";
}

function failed(task: TaskMessage, err: unknown): Result | Promise<never> {
  // Deno.exit() in a worker-method task ends this worker, as it ends a
  // subprocess: serve nothing more (the parent sees the exit).
  if (err instanceof WorkerExit) return new Promise<never>(() => {});
  if (err instanceof Error) return { id: task.id, error: errorToData(err) };
  const where = `${task.fn.module}#${task.fn.exportName} in pool worker '${state().name}'`;
  return { id: task.id, error: errorToData(err, 0, where) };
}

/** The calls from `from` on, awaiting each; `first` is call `from`'s pending value. */
async function finish(
  task: TaskMessage,
  fn: AnyFn,
  values: unknown[],
  from: number,
  first?: PromiseLike<unknown>,
): Promise<Result> {
  try {
    if (first) {
      values.push(checked(task, await first));
      from++;
    }
    for (let i = from; i < task.calls.length; i++) {
      values.push(checked(task, await call(task, fn, i)));
    }
    return { id: task.id, value: values };
  } catch (err) {
    return await failed(task, err);
  }
}

async function runSlow(task: TaskMessage, gate: ModuleGate): Promise<Result> {
  let fn: AnyFn;
  try {
    fn = await resolveTarget(task.fn, gate);
    // Queues, pipe ends and other handles among the arguments.
    if (task.handles) {
      useAccess(task.access);
      task.calls = await reviveAt(task.calls, task.handles);
    }
  } catch (err) {
    return await failed(task, err);
  }
  return await finish(task, fn, [], 0);
}

/**
 * Runs a task: its result at once where every call returned a plain value,
 * else a promise of it. A function not met yet is looked up through `gate`.
 */
export function runTask(task: TaskMessage, gate: ModuleGate): Result | Promise<Result> {
  let fn = byRef.get(task.fn);
  if (!fn) {
    fn = found.get(keyOf(task.fn));
    if (fn) byRef.set(task.fn, fn);
  }
  if (!fn || task.handles) return runSlow(task, gate);
  const values: unknown[] = [];
  try {
    for (let i = 0; i < task.calls.length; i++) {
      const v = call(task, fn, i);
      if (isThenable(v)) return finish(task, fn, values, i, v);
      values.push(checked(task, v));
    }
  } catch (err) {
    return failed(task, err);
  }
  return { id: task.id, value: values };
}
