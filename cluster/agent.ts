/**
 * `ClusterAgent`: a worker agent, made by `Cluster.serve()` (or the
 * `cluster/worker` command). It runs a local `Pool` fed from the cluster's
 * task stream.
 *
 * @module
 */

import { cpuCount, type Permissions, type StartMethod } from "../process.ts";
import { Pool, WorkerDiedError } from "../pool.ts";
import type { Runner } from "../_internal/cluster/agent_context.ts";
import { AgentEngine } from "../_internal/cluster/agent_engine.ts";
import { type Engine, rootUrl } from "../_internal/cluster/engine.ts";
import type { AgentRecord, Death } from "../_internal/cluster/protocol.ts";

/** Options of `Cluster.serve()`. */
export interface ServeOptions {
  /** Worker processes of the local pool. @default {cpuCount()} */
  processes?: number;
  /** Task messages held per process: slots = processes × prefetch. @default {2} */
  prefetch?: number;
  /** How the local pool's workers start. @default {"subprocess"} */
  startMethod?: StartMethod;
  /** Permissions of subprocess workers (see `Process`). @default {"inherit"} */
  permissions?: Permissions;
  /** Extra `deno run` flags for subprocess workers. @default {getRuntimeArgs()} */
  runtimeArgs?: string[];
  /**
   * The code root: task modules named relative to the submitter's root are
   * found under it. A path or a URL. @default {the cluster's root}
   */
  root?: string | URL;
  /**
   * Prefixes (URLs or paths) of the modules this agent may import; a task
   * of any other module is refused, never run. @default {[root]}
   */
  modules?: string | URL | (string | URL)[];
}

/** A module prefix as a URL; a path to a folder ends in `/`. */
function prefixUrl(p: string | URL): string {
  const s = String(p);
  if (/^[a-z][a-z0-9+.-]*:/i.test(s)) return new URL(s).href;
  const path = s.startsWith("/") ? s : `${Deno.cwd()}/${s}`;
  let isDir = s.endsWith("/");
  try {
    isDir ||= Deno.statSync(path).isDirectory;
  } catch {
    // Not there (yet): taken as written.
  }
  const url = new URL(`file://${encodeURI(path)}`).href;
  return isDir && !url.endsWith("/") ? `${url}/` : url;
}

/** How a local pool worker died, from its `WorkerDiedError`. */
function workerDeath(err: unknown): Death | undefined {
  if (!(err instanceof WorkerDiedError)) return undefined;
  // "Pool worker Process-3 (pid 123) died with signal 9 while running this task"
  const m = /\(pid (\d+)\) died with (signal|exit code) (-?\d+)/.exec(err.message);
  if (!m) return {};
  const n = Number(m[3]);
  return m[2] === "signal" ? { pid: Number(m[1]), signal: n } : { pid: Number(m[1]), exitCode: n };
}

function checkCount(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 1) {
    throw new RangeError(
      `Cannot serve cluster: '${name}' must be a positive integer, received ${value}`,
    );
  }
  return value;
}

/**
 * A worker agent serving a cluster from this process: it pulls task
 * messages while it has slots, runs their tasks on a local `Pool`, writes
 * their results and acks them.
 *
 * @example Serve until stopped
 * ```ts ignore
 * import { Cluster } from "@mp/multiprocessing/cluster";
 *
 * const authkey = Deno.env.get("MP_AUTHKEY")!;
 * const servers = Deno.env.get("NATS_URL") ?? "nats://127.0.0.1:4222";
 * await using cluster = await Cluster.connect({ servers, name: "jobs", authkey });
 * const modules = [new URL("./tasks.ts", import.meta.url)]; // it imports this module, no other
 * await using agent = await cluster.serve({ processes: 2, modules });
 * for (const signal of ["SIGINT", "SIGTERM"] as const) {
 *   Deno.addSignalListener(signal, () => agent.close()); // finishes the tasks it holds
 * }
 * console.log(`agent ${agent.id} serving`);
 * await agent.closed;
 * ```
 */
export class ClusterAgent implements AsyncDisposable {
  #engine: AgentEngine;
  #pool: Pool;
  #closing: Promise<void> | undefined;
  #closed = Promise.withResolvers<void>();

  /**
   * @internal Made by `Cluster.serve()`.
   * @param engine The cluster's connection.
   * @param options Processes, prefetch, start method, code root, allowed modules.
   * @throws {RangeError} On a bad `processes` or `prefetch`.
   */
  constructor(engine: unknown, options: ServeOptions = {}) {
    const e = engine as Engine;
    const processes = checkCount("processes", options.processes ?? cpuCount());
    const prefetch = checkCount("prefetch", options.prefetch ?? 2);
    const root = options.root === undefined ? e.root : rootUrl(options.root);
    const given = options.modules ?? root;
    const modules = (Array.isArray(given) ? given : [given]).map(prefixUrl);
    this.#pool = new Pool({
      processes,
      startMethod: options.startMethod ?? "subprocess",
      permissions: options.permissions,
      runtimeArgs: options.runtimeArgs,
    });
    const pool = this.#pool;
    const runner: Runner = {
      run: (fn, module, calls) =>
        pool.starmapAsync(fn, calls, { module, chunksize: calls.length }).get(),
      workerDeath,
    };
    this.#engine = new AgentEngine(e, {
      processes,
      slots: processes * prefetch,
      startMethod: options.startMethod ?? "subprocess",
      modules,
      root,
    }, runner);
  }

  /** @internal Starts pulling. */
  async start(): Promise<void> {
    await this.#engine.start();
  }

  /** This agent's id, as `status()` lists it. */
  get id(): string {
    return this.#engine.id;
  }

  /**
   * What this agent publishes about itself.
   *
   * @returns Its current record: host, slots, counts.
   */
  record(): AgentRecord {
    return this.#engine.record();
  }

  /** Resolves once the agent has stopped. */
  get closed(): Promise<void> {
    return this.#closed.promise;
  }

  /**
   * Stops pulling, lets the task messages it holds finish (their results
   * written and acked), then stops the local pool. Idempotent.
   */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      try {
        await this.#engine.stop();
      } finally {
        this.#pool.close();
        await this.#pool.join();
        this.#closed.resolve();
      }
    })();
    return this.#closing;
  }

  /** `close()`. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
