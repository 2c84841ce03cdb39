/**
 * The target every pool worker runs: it runs the pool's initializer and says
 * `{ready}` (or `{initError}`: the pool counts a failed start), then reads
 * batches of tasks from its pipe, runs each exported function it names, and
 * sends back one result (or error, as data) per task. It returns (and so its process exits) when told
 * to stop, when its pipe closes, or after `maxTasks` tasks.
 *
 * @module
 */

import { type AnyFn, findTarget, type TargetRef } from "../process/target.ts";
import { WorkerExit } from "../process/worker_exit.ts";
import { errorToData } from "../wire/error_data.ts";
import { reviveHandles } from "../hub/handles.ts";
import { state } from "../base/state.ts";

/** One task as it crosses to a worker. */
export interface TaskMessage {
  /** The task's id in the pool. */
  id: number;
  /** The function. */
  fn: TargetRef;
  /** Argument lists: one call per entry (a chunk of a map). */
  calls: unknown[][];
}

/** What a worker's pipe end looks like here (a `Connection`). */
interface Conn {
  recv(): Promise<unknown>;
  send(value: unknown): Promise<void>;
  close(): void;
}

/**
 * Whether the parent process is gone: a subprocess worker's parent pid
 * changes when its parent dies (~150 ns a look). A worker-method worker
 * dies with its process.
 */
function parentWatch(): () => boolean {
  if (state().isWorker) return () => false;
  const ppid = Deno.ppid;
  return () => Deno.ppid !== ppid;
}

/** A batch's results wait at most this long for the others. */
const FLUSH_MS = 5;

/** The reply itself, or an error in its place when its value cannot be cloned. */
function clonable(reply: Record<string, unknown>): Record<string, unknown> {
  try {
    structuredClone(reply);
    return reply;
  } catch (err) {
    return { id: reply.id, error: errorToData(err) };
  }
}

const cache = new Map<string, Promise<Record<string, unknown>>>();

function resolve(ref: TargetRef): Promise<AnyFn> {
  let mod = cache.get(ref.module);
  if (!mod) cache.set(ref.module, mod = import(ref.module));
  return mod.then((m) => findTarget(m, ref, "run task"));
}

async function runTask(task: TaskMessage): Promise<unknown[]> {
  const fn = await resolve(task.fn);
  // Queues, pipe ends and other handles among the arguments.
  task.calls = await reviveHandles(task.calls);
  const results: unknown[] = [];
  for (const args of task.calls) results.push(await fn(...args));
  return results;
}

/**
 * Serves tasks until stopped. `init` is the pool's initializer, run once
 * before the first task.
 */
export async function poolWorker(
  conn: Conn,
  init: { fn: TargetRef; args: unknown[] } | null,
  maxTasks: number,
): Promise<void> {
  try {
    if (init) await (await resolve(init.fn))(...init.args);
  } catch (err) {
    // Deno.exit() in a worker-method initializer ends this worker as a
    // process exit would; anything else the pool reports with the start.
    if (err instanceof WorkerExit) throw err;
    await conn.send({ initError: errorToData(err) }).catch(() => {});
    return conn.close();
  }
  await conn.send({ ready: true });
  const parentGone = parentWatch();
  for (let done = 0; maxTasks === 0 || done < maxTasks;) {
    let msg: { stop?: boolean; tasks?: TaskMessage[] };
    try {
      msg = await conn.recv() as typeof msg;
    } catch {
      return; // The pool is gone: its end of the pipe closed.
    }
    if (msg.stop) break;
    // Replies go back together, a batch at a time, unless a task takes long.
    let replies: Record<string, unknown>[] = [];
    let since = performance.now();
    const flush = async () => {
      if (replies.length === 0) return;
      const out = replies;
      replies = [];
      since = performance.now();
      try {
        await conn.send({ results: out });
      } catch {
        // A result that cannot be cloned fails that task only.
        for (const r of out) await conn.send({ results: [clonable(r)] });
      }
    };
    for (const task of msg.tasks ?? []) {
      // A synchronous task never lets this process read its stdin's end:
      // between two tasks of a batch, it looks for its parent itself.
      if (parentGone()) Deno.exit(1);
      try {
        replies.push({ id: task.id, value: await runTask(task) });
      } catch (err) {
        // Deno.exit() in a worker-method task ends this worker, as it ends a
        // subprocess: serve nothing more (the parent sees the exit).
        if (err instanceof WorkerExit) return await new Promise<never>(() => {});
        replies.push({ id: task.id, error: errorToData(err) });
      }
      done++;
      if (performance.now() - since > FLUSH_MS) await flush();
    }
    await flush();
  }
  conn.close();
}
