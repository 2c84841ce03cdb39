/**
 * The interfaces between a worker agent's engine, the handling of one task
 * message, and what runs tasks (the local pool, in `cluster/agent.ts`).
 *
 * @module
 */

import type { AnyFn } from "./core.ts";
import type { Engine } from "./engine.ts";
import type { Delivery } from "./puller.ts";
import type { Death, TaskBatch } from "./protocol.ts";

/** What runs tasks for the agent. */
export interface Runner {
  /** Runs one task (its calls) of `fn`, exported by `module`; resolves its results. */
  run(fn: AnyFn, module: string, calls: unknown[][]): Promise<unknown[]>;
  /** How the worker died, when `err` says a worker process died under the task. */
  workerDeath(err: unknown): Death | undefined;
}

/** The agent's settings. */
export interface AgentSettings {
  processes: number;
  slots: number;
  startMethod: string;
  /** URL prefixes of the modules it may import. */
  modules: string[];
  /** The code root relative module URLs are resolved against (a URL ending in `/`). */
  root: string;
}

/** What handling one message needs (see agent_task.ts). */
export interface AgentContext extends Runner {
  readonly engine: Engine;
  readonly id: string;
  readonly modules: string[];
  readonly counters: { done: number; failed: number; retried: number; refused: number };
  resolveModule(module: string, rel: boolean): string;
  allowed(url: string): boolean;
  importModule(url: string): Promise<Record<string, unknown>>;
  refuse(d: Delivery, msgId: string, why: string, batch: TaskBatch | undefined): Promise<void>;
  stopped(): boolean;
}
