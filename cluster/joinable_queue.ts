/**
 * `ClusterJoinableQueue`: a cluster queue whose items stay leased to the
 * consumer that took them until `taskDone()`.
 *
 * @module
 */

import { aborted, ClusterQueue } from "./queue.ts";
import { ack, type Delivery, nak, working } from "../_internal/cluster/puller.ts";

/**
 * A {@link ClusterQueue} whose `get()` leaves the item leased to this
 * consumer until {@link ClusterJoinableQueue.taskDone} acknowledges it: an
 * item taken by a consumer that dies first is delivered again.
 *
 * @typeParam T The items' type.
 *
 * @example Take a job, finish it
 * ```ts ignore
 * import { Cluster } from "@mp/multiprocessing/cluster";
 *
 * const authkey = Deno.env.get("MP_AUTHKEY")!;
 * const servers = Deno.env.get("NATS_URL") ?? "nats://127.0.0.1:4222";
 * await using cluster = await Cluster.connect({ servers, name: "jobs", authkey });
 * await using jobs = cluster.joinableQueue<string>("jobs");
 * await jobs.put("resize photo.jpg"); // from any host
 * const job = await jobs.get(); // leased to this consumer until taskDone()
 * console.log(job); // resize photo.jpg
 * await jobs.taskDone(); // acknowledged: never delivered again
 * ```
 */
export class ClusterJoinableQueue<T = unknown> extends ClusterQueue<T> {
  #held: Delivery[] = [];
  #renew: ReturnType<typeof setInterval> | undefined;

  /**
   * @internal Held, not acknowledged; its lease renewed while it is held.
   * @param d The item's delivery.
   * @param item The item, verified and decoded.
   * @returns The item.
   */
  protected override taken(d: Delivery, item: unknown): unknown {
    this.#held.push(d);
    const every = Math.max(50, Math.floor(this.engine.settings.ackWait / 3));
    this.#renew ??= setInterval(() => {
      for (const h of this.#held) working(this.engine.nc, h);
    }, every);
    return item;
  }

  /**
   * Acknowledges the oldest item this consumer took and has not finished.
   *
   * @throws {RangeError} When this consumer holds no unfinished item.
   */
  taskDone(): Promise<void> {
    const d = this.#held.shift();
    if (!d) {
      return Promise.reject(
        new RangeError("Cannot mark task done: this consumer holds no unfinished item"),
      );
    }
    ack(this.engine.nc, d);
    if (this.#held.length === 0) this.#stopRenewing();
    return this.engine.nc.flush();
  }

  #stopRenewing(): void {
    clearInterval(this.#renew);
    this.#renew = undefined;
  }

  /**
   * Resolves once every item put has been taken and marked done (by any host).
   *
   * @param options `signal`, which stops the wait.
   * @throws The signal's reason once it aborts the wait.
   */
  async join(options: { signal?: AbortSignal } = {}): Promise<void> {
    for (let i = 0; (await this.stored()) > 0; i++) {
      aborted(options.signal);
      await new Promise((r) => setTimeout(r, Math.min(200, 10 * 2 ** i)));
    }
  }

  /** Gives back unfinished items (delivered again to others), and lets go of the handle. */
  override async [Symbol.asyncDispose](): Promise<void> {
    this.#stopRenewing();
    for (const d of this.#held.splice(0)) nak(this.engine.nc, d);
    await this.engine.nc.flush().catch(() => {});
    await super[Symbol.asyncDispose]();
  }
}
