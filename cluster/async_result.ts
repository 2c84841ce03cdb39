/**
 * `ClusterAsyncResult`: a cluster task's `AsyncResult`, with its attempts.
 *
 * @module
 */

import type { Attempt } from "../_internal/cluster/protocol.ts";
import { AsyncResult } from "../pool.ts";

/**
 * The eventual result of a cluster task: an `AsyncResult` that also tells
 * where the task ran, attempt by attempt.
 *
 * @typeParam T The task's result.
 *
 * @example Where a task ran
 * ```ts ignore
 * import { Cluster } from "@mp/multiprocessing/cluster";
 * import { square } from "./tasks.ts";
 *
 * const authkey = Deno.env.get("MP_AUTHKEY")!;
 * const servers = Deno.env.get("NATS_URL") ?? "nats://127.0.0.1:4222";
 * await using cluster = await Cluster.connect({ servers, name: "jobs", authkey });
 * await using pool = cluster.pool({ module: new URL("./tasks.ts", import.meta.url) });
 * const result = pool.applyAsync(square, [7]);
 * console.log(await result); // 49
 * // One attempt per delivery: "1 completed <host> <pid>" (a retried task has more).
 * for (const a of result.attempts) console.log(a.attempt, a.outcome, a.host, a.pid);
 * ```
 */
export class ClusterAsyncResult<T> extends AsyncResult<T> {
  #attempts: Attempt[];

  /**
   * @internal Made by the cluster pool.
   * @param promise Settles with the task's result or error.
   * @param attempts The list the pool fills with the attempts as tasks settle.
   */
  constructor(promise: Promise<T>, attempts: Attempt[]) {
    super(promise);
    this.#attempts = attempts;
  }

  /**
   * Every attempt of its tasks so far (a map's tasks one after the other,
   * in the order they settled): host, process and how each ended.
   */
  get attempts(): readonly Attempt[] {
    return this.#attempts;
  }
}
