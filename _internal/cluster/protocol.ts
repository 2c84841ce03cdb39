/**
 * What crosses the broker, and the error a task fails with after its last
 * attempt.
 *
 * A task message carries a batch of tasks of one pool and one function
 * (tasks submitted together: a map's chunks), so that a lease, an ack and a
 * result entry cover many tasks: per-message costs on this machine cap a
 * message-per-task design near the broker-free peer's speed (see
 * bench/cluster_throughput.ts). Each task in it still runs as its own task
 * of the agent's local pool, and fails or succeeds alone.
 *
 * @module
 */

import { type ErrorData, ProcessError } from "./core.ts";

/**
 * One attempt at a task: where it ran and how it ended.
 */
export interface Attempt {
  /** 1 for the first delivery, 2 for the first retry, … */
  attempt: number;
  /** The host that held it (`"unknown host"` when a lease expired unclaimed). */
  host: string;
  /** The worker agent's id, where known. */
  agent?: string;
  /**
   * The process: the pool worker that died, or that ran it; the agent's own
   * pid for a lease that expired.
   */
  pid?: number;
  /**
   * How it ended: the task ran to its end (its result, or the error it
   * threw), its worker process died under it, its host's lease on it
   * expired (the host vanished or was cut off), or the host refused it.
   */
  outcome: "completed" | "worker died" | "lease expired" | "refused";
  /** The dead worker's exit code, when it exited. */
  exitCode?: number;
  /** The signal that killed the dead worker, when one did (9 for SIGKILL). */
  signal?: number;
}

/**
 * A cluster task failed on every attempt it was allowed (`maxAttempts`):
 * its worker process died each time, or its host vanished while it held it.
 * `attempts` lists every attempt, and the message says the same.
 *
 * @example Tell a task that kept killing its worker
 * ```ts ignore
 * import { Cluster, TaskFailedError } from "@mp/multiprocessing/cluster";
 * import { crash } from "./tasks.ts"; // it calls Deno.exit(1)
 *
 * const authkey = Deno.env.get("MP_AUTHKEY")!;
 * const servers = Deno.env.get("NATS_URL") ?? "nats://127.0.0.1:4222";
 * await using cluster = await Cluster.connect({ servers, name: "jobs", authkey });
 * await using pool = cluster.pool({ module: new URL("./tasks.ts", import.meta.url) });
 * try {
 *   await pool.apply(crash, []);
 * } catch (err) {
 *   if (!(err instanceof TaskFailedError)) throw err;
 *   console.log(err.attempts.length, err.attempts[0].outcome); // 3 worker died
 * }
 * ```
 */
export class TaskFailedError extends ProcessError {
  /** The task's id. */
  readonly taskId: string;
  /** Every attempt, in order. */
  readonly attempts: readonly Attempt[];

  /**
   * Creates the error.
   *
   * @param taskId The task's id.
   * @param attempts Every attempt, in order.
   */
  constructor(taskId: string, attempts: readonly Attempt[]) {
    super(
      `Task ${taskId} failed after ${attempts.length} attempt${attempts.length === 1 ? "" : "s"}: ${
        attempts.map(describeAttempt).join("; ")
      }`,
    );
    this.taskId = taskId;
    this.attempts = attempts;
  }
}

/** One attempt in words: "attempt 2 on host b (pid 42): worker died with signal 9". */
export function describeAttempt(a: Attempt): string {
  const where = `attempt ${a.attempt} on ${a.host}${a.pid ? ` (pid ${a.pid})` : ""}`;
  if (a.outcome !== "worker died") return `${where}: ${a.outcome}`;
  const how = a.signal !== undefined ? `signal ${a.signal}` : `exit code ${a.exitCode}`;
  return `${where}: worker died with ${how}`;
}

/** A function as a task names it. */
export interface FnRef {
  /** The module: relative to the code root when `rel`, else an absolute URL. */
  module: string;
  rel: boolean;
  exportName: string;
  fingerprint: string;
}

/** A task message's body. */
export interface TaskBatch {
  kind: "tasks";
  /** `<submitter>.<batch>`: the message id, and the result's key. */
  id: string;
  fn: FnRef;
  /** Per task, its calls (argument lists): one for `apply`, a chunk for maps. */
  tasks: unknown[][][];
}

/** How one task of a batch ended, and at which attempt. */
export type Outcome =
  | { ok: unknown[]; a: number }
  | { err: ErrorData; a: number }
  | { failed: true; a: number };

/** How the worker that ran a task died. */
export interface Death {
  pid?: number;
  exitCode?: number;
  signal?: number;
}

/**
 * One attempt at a whole task message, as agents record it; the tasks whose
 * worker died in it are listed with how.
 */
export interface AttemptRecord extends Attempt {
  deaths?: Record<number, Death>;
}

/** Task `i`'s own attempts, of the message's first `upTo`. */
export function attemptsOf(history: readonly AttemptRecord[], i: number, upTo: number): Attempt[] {
  return history.slice(0, upTo).map(({ deaths, ...a }) => {
    const death = deaths?.[i];
    if (death) return { ...a, ...death, outcome: "worker died" };
    return a.outcome === "worker died" ? { ...a, outcome: "completed" } : a;
  });
}

/** A result entry's body: the batch's outcomes so far, and its attempts. */
export interface ResultEntry {
  kind: "results";
  id: string;
  history: AttemptRecord[];
  /** Per task of the batch, its outcome once known. */
  out: (Outcome | null)[];
}

/** The key of a batch's result entry. */
export function resultKey(id: string): string {
  return `r.${id}`;
}

/** An agent's refusal of a message it could not trust: written unsigned, as plain JSON. */
export interface Refusal {
  refused: string;
  host: string;
}

/** What an agent publishes about itself on each heartbeat (plain JSON: informational). */
export interface AgentRecord {
  /** The agent's id (random, per agent). */
  id: string;
  /** Its host's name. */
  host: string;
  /** The agent's process id. */
  pid: number;
  /** Worker processes of its local pool. */
  processes: number;
  /** Task messages it holds at most (processes × prefetch). */
  slots: number;
  /** How its local pool's workers start. */
  startMethod: string;
  /** URL prefixes of the modules it may import. */
  modules: string[];
  /** When it started (ms since the epoch). */
  started: number;
  /** Time of this heartbeat (ms since the epoch). */
  beat: number;
  /** Heartbeat period, ms: the record is stale after three. */
  every: number;
  /** Ids of the task messages it holds. */
  held: string[];
  /** Tasks it ran to their end (a result, or the error the task threw). */
  done: number;
  /** Tasks that failed for good on it (their last attempt's worker died). */
  failed: number;
  /** Task messages it gave back to be tried again (a worker died). */
  retried: number;
  /** Task messages it refused (not signed with the authkey, or a module outside its prefixes). */
  refused: number;
  /** Set while it stops: it takes no more work. */
  stopping?: boolean;
}
