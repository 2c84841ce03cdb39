/**
 * Beyond one machine: the `Pool` and `Queue` API over NATS JetStream.
 *
 * `Cluster.connect()` joins a cluster (a name on a NATS server with
 * JetStream); `cluster.pool()` submits tasks that worker agents on any
 * number of hosts run (`cluster.serve()`, or the `cluster/worker`
 * command); `cluster.queue(name)` is a queue every host shares.
 *
 * Delivery is at least once, and visible: a task whose worker process dies
 * is retried (up to `maxAttempts`); a task message held by a host that
 * vanishes goes to another host once its lease (`ackWait`) expires; after
 * the last attempt the task fails with {@link TaskFailedError}, listing
 * every attempt. Results are exactly once: a duplicate completion is
 * dropped. Tasks should be idempotent, as a task may run twice (its host
 * cut off after it ran, before it reported).
 *
 * Security: NATS credentials (`user`/`pass`, `token`, TLS) guard the
 * broker; the cluster's `authkey` guards execution. Every task, queue item
 * and result is signed with HMAC-SHA256 under the authkey and verified
 * before it is decoded, and agents import only modules under their
 * `modules` prefixes: what fails either check is refused (counted,
 * dead-lettered), never run.
 *
 * This module is not re-exported by `mod.ts`: it brings in the NATS client
 * from npm, which the rest of the library does without.
 *
 * @example A map on the cluster's agents
 * ```ts ignore
 * import { Cluster } from "@mp/multiprocessing/cluster";
 * import { square } from "./tasks.ts"; // exported functions, deployed on every worker host
 *
 * const authkey = Deno.env.get("MP_AUTHKEY")!; // hex, the same on every host
 * const servers = Deno.env.get("NATS_URL") ?? "nats://127.0.0.1:4222";
 * await using cluster = await Cluster.connect({ servers, name: "jobs", authkey });
 * await using pool = cluster.pool({ module: new URL("./tasks.ts", import.meta.url) });
 * console.log(await pool.map(square, [1, 2, 3])); // [ 1, 4, 9 ]
 * ```
 *
 * @module
 */

import { Engine } from "./_internal/cluster/engine.ts";
import { AgentsView } from "./_internal/cluster/agents_view.ts";
import { Submitter } from "./_internal/cluster/submitter.ts";
import { gatherStatus } from "./_internal/cluster/status.ts";
import { ClusterPool, type ClusterPoolOptions } from "./cluster/pool.ts";
import { ClusterQueue, type ClusterQueueOptions } from "./cluster/queue.ts";
import { ClusterJoinableQueue } from "./cluster/joinable_queue.ts";
import { ClusterAgent, type ServeOptions } from "./cluster/agent.ts";
import type { ClusterStatus } from "./_internal/cluster/status.ts";

export { ClusterPool, type ClusterPoolOptions } from "./cluster/pool.ts";
export { ClusterAsyncResult } from "./cluster/async_result.ts";
export { ClusterQueue, type ClusterQueueOptions } from "./cluster/queue.ts";
export { ClusterJoinableQueue } from "./cluster/joinable_queue.ts";
export { ClusterAgent, type ServeOptions } from "./cluster/agent.ts";
export { type Attempt, TaskFailedError } from "./_internal/cluster/protocol.ts";
export type { AgentRecord } from "./_internal/cluster/protocol.ts";
export type { AgentStatus, ClusterStatus, StreamStatus } from "./_internal/cluster/status.ts";
export { AsyncResult } from "./pool.ts";
export type { MapItem, PoolCallOptions, PoolLike, PoolMapOptions, TaskFunction } from "./pool.ts";
export type { WaitOptions } from "./synchronize.ts";
export type { GetOptions, PutOptions } from "./queue.ts";
export type { CloneMode, Permissions, PermissionsObject, StartMethod } from "./process.ts";
export { AuthenticationError, ProcessError, RemoteError } from "./context.ts";
export type { ClusterOptions } from "./_internal/cluster/options.ts";
import type { ClusterOptions } from "./_internal/cluster/options.ts";

/**
 * A connection to a cluster: pools, queues and worker agents over NATS
 * JetStream.
 *
 * @example Connect, map, read the figures
 * ```ts ignore
 * import { Cluster } from "@mp/multiprocessing/cluster";
 * import { square } from "./tasks.ts";
 *
 * const authkey = Deno.env.get("MP_AUTHKEY")!;
 * const servers = Deno.env.get("NATS_URL") ?? "nats://127.0.0.1:4222";
 * await using cluster = await Cluster.connect({ servers, name: "jobs", authkey });
 * await using agent = await cluster.serve({ processes: 2 }); // this host works too
 * await using pool = cluster.pool({ module: new URL("./tasks.ts", import.meta.url) });
 * console.log(await pool.map(square, [1, 2, 3])); // [ 1, 4, 9 ]
 * console.log((await cluster.status()).agents.length); // 1
 * ```
 */
export class Cluster implements AsyncDisposable {
  #engine: Engine;
  #agents = new AgentsView();
  #submitter: Submitter;
  #pools = new Set<ClusterPool>();
  #queues = new Set<ClusterQueue<unknown>>();
  #served = new Set<ClusterAgent>();
  #closing: Promise<void> | undefined;

  /**
   * Made by {@link Cluster.connect}.
   *
   * @param engine The connection to the NATS server.
   */
  private constructor(engine: Engine) {
    this.#engine = engine;
    this.#submitter = new Submitter(engine);
  }

  /**
   * Connects to a cluster, creating its streams and buckets on the server
   * where they are missing.
   *
   * @param options Servers, name, authkey, credentials, settings.
   * @returns The connected cluster.
   * @throws {TypeError} On a bad name, authkey or servers.
   * @throws {RangeError} On a bad setting.
   * @throws {Error} The NATS client's error when the server cannot be reached or refuses the credentials.
   */
  static async connect(options: ClusterOptions): Promise<Cluster> {
    const engine = await Engine.connect(options);
    const cluster = new Cluster(engine);
    try {
      await cluster.#agents.start(engine);
    } catch (err) {
      await engine.close();
      throw err;
    }
    return cluster;
  }

  /** The cluster's name. */
  get name(): string {
    return this.#engine.names.cluster;
  }

  /** This host's name, as attempts and `status()` show it. */
  get host(): string {
    return this.#engine.host;
  }

  /** The code root (a URL ending in `/`). */
  get root(): string {
    return this.#engine.root;
  }

  #check(what: string): void {
    if (this.#closing) throw new Error(`Cannot ${what}: the cluster connection is closed`);
  }

  /**
   * A pool whose tasks run on the cluster's worker agents.
   *
   * @param options The module exporting the task functions.
   * @returns The pool.
   * @throws {TypeError} On a local pool's option (`processes`, …), which the agents decide.
   */
  pool(options: ClusterPoolOptions = {}): ClusterPool {
    this.#check("create pool");
    const pool = new ClusterPool({
      engine: this.#engine,
      submitter: this.#submitter,
      agents: this.#agents,
      options,
    });
    this.#pools.add(pool);
    return pool;
  }

  /**
   * The queue `name`, shared by every host of the cluster (created on first use).
   *
   * @param name Letters, digits, `_`, `-`.
   * @param options `maxsize`, for the host that creates it.
   * @returns A handle on the queue.
   * @throws {TypeError} On a bad name.
   * @throws {RangeError} On a bad `maxsize`.
   */
  queue<T = unknown>(name: string, options: ClusterQueueOptions = {}): ClusterQueue<T> {
    this.#check("open queue");
    const q = new ClusterQueue<T>(this.#engine, name, options);
    this.#queues.add(q as ClusterQueue<unknown>);
    return q;
  }

  /**
   * The queue `name` as a joinable queue: items stay leased to the consumer
   * that took them until it calls `taskDone()`.
   *
   * @param name Letters, digits, `_`, `-`.
   * @param options `maxsize`, for the host that creates it.
   * @returns A handle on the queue.
   * @throws {TypeError} On a bad name.
   * @throws {RangeError} On a bad `maxsize`.
   */
  joinableQueue<T = unknown>(
    name: string,
    options: ClusterQueueOptions = {},
  ): ClusterJoinableQueue<T> {
    this.#check("open queue");
    const q = new ClusterJoinableQueue<T>(this.#engine, name, options);
    this.#queues.add(q as ClusterQueue<unknown>);
    return q;
  }

  /**
   * Makes this process a worker agent: a local pool fed from the cluster's
   * tasks, until the agent (or the cluster connection) is closed.
   *
   * @param options Processes, prefetch, start method, code root, allowed modules.
   * @returns The running agent.
   * @throws {RangeError} On a bad `processes` or `prefetch`.
   */
  async serve(options: ServeOptions = {}): Promise<ClusterAgent> {
    this.#check("serve");
    const agent = new ClusterAgent(this.#engine, options);
    this.#served.add(agent);
    try {
      await agent.start();
    } catch (err) {
      await agent.close().catch(() => {});
      this.#served.delete(agent);
      throw err;
    }
    return agent;
  }

  /**
   * The cluster's figures: per stream pending, in-flight, redelivered and
   * dead-lettered messages; the agents seen, with host, slots and last heartbeat.
   *
   * @returns The figures, read from the server now.
   * @throws {Error} The NATS client's error when the server does not answer.
   */
  status(): Promise<ClusterStatus> {
    return gatherStatus(this.#engine);
  }

  /**
   * Closes the connection: agents served here stop (letting their tasks
   * finish), pools still running are terminated, queue handles let go.
   * Idempotent.
   */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      for (const a of this.#served) await a.close().catch(() => {});
      for (const p of this.#pools) p.terminate();
      for (const p of this.#pools) await p.join().catch(() => {});
      for (const q of this.#queues) await q[Symbol.asyncDispose]().catch(() => {});
      await this.#submitter.close();
      await this.#agents.close();
      await this.#engine.close();
    })();
    return this.#closing;
  }

  /** `close()`. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
