/**
 * Start methods, contexts and the errors every module shares.
 *
 * A context fixes a start method, as Python's `get_context("spawn")` does:
 * `getContext("worker").Process` starts workers without naming the method
 * each time. `setStartMethod` sets the default for the whole program, and
 * `setRuntimeArgs` the `deno run` flags every subprocess child gets.
 *
 * @example Choose the start method once
 * ```ts
 * import { getContext } from "@mp/multiprocessing/context";
 * import { assertEquals } from "@std/assert";
 *
 * const ctx = getContext("worker");
 * assertEquals(ctx.startMethod, "worker");
 * ```
 *
 * @module
 */

import {
  activeChildren,
  cpuCount,
  currentProcess,
  parentProcess,
  Process,
  type ProcessOptions,
  type StartMethod,
  type Target,
} from "./process.ts";
import { Pool, type PoolOptions } from "./pool.ts";
import { BaseManager, Manager } from "./manager.ts";
import { JoinableQueue, Queue, SimpleQueue } from "./queue.ts";
import { Pipe } from "./connection.ts";
import {
  Barrier,
  BoundedSemaphore,
  Condition,
  Event,
  Lock,
  RLock,
  Semaphore,
} from "./synchronize.ts";
import { SharedArray, Value } from "./shared.ts";
import { state } from "./_internal/base/state.ts";
import { once } from "./_internal/base/async.ts";

export { AuthenticationError, ProcessError, RemoteError } from "./_internal/base/errors.ts";
export {
  getLogger,
  LOG_ENV,
  Logger,
  type LogHandler,
  type LogLevel,
  type LogRecord,
  logToStderr,
} from "./context/logging.ts";
export type { StartMethod } from "./process.ts";

const METHODS: readonly StartMethod[] = ["subprocess", "worker"];

function checkMethod(method: unknown, what: string): StartMethod {
  if (!METHODS.includes(method as StartMethod)) {
    throw new RangeError(
      `Cannot ${what}: the start method must be "subprocess" or "worker", received '${
        String(method)
      }'`,
    );
  }
  return method as StartMethod;
}

/**
 * A start method and what Python's context offers, bound to it: `Process`
 * and `Pool` start their children with this method unless their options
 * name another; the rest (queues, pipes, locks, shared values, managers)
 * work with children of either method and are the classes themselves.
 */
export interface Context {
  /** The start method of this context. */
  readonly startMethod: StartMethod;
  /** `Process`, starting children with this context's method by default. */
  readonly Process: typeof Process;
  /** `Pool`, starting workers with this context's method by default. */
  readonly Pool: typeof Pool;
  /** `Manager` (its own process is always a `deno run` subprocess). */
  readonly Manager: typeof Manager;
  /** `BaseManager`, for managers of registered types. */
  readonly BaseManager: typeof BaseManager;
  /** `Queue`. */
  readonly Queue: typeof Queue;
  /** `JoinableQueue`. */
  readonly JoinableQueue: typeof JoinableQueue;
  /** `SimpleQueue`. */
  readonly SimpleQueue: typeof SimpleQueue;
  /** `Pipe()`. */
  readonly Pipe: typeof Pipe;
  /** `Lock`. */
  readonly Lock: typeof Lock;
  /** `RLock`. */
  readonly RLock: typeof RLock;
  /** `Semaphore`. */
  readonly Semaphore: typeof Semaphore;
  /** `BoundedSemaphore`. */
  readonly BoundedSemaphore: typeof BoundedSemaphore;
  /** `Event`. */
  readonly Event: typeof Event;
  /** `Condition`. */
  readonly Condition: typeof Condition;
  /** `Barrier`. */
  readonly Barrier: typeof Barrier;
  /** `Value` (Python's `ctx.Value`). */
  readonly Value: typeof Value;
  /** `SharedArray` (Python's `ctx.Array`). */
  readonly Array: typeof SharedArray;
  /** `cpuCount()`. */
  readonly cpuCount: typeof cpuCount;
  /** `currentProcess()`. */
  readonly currentProcess: typeof currentProcess;
  /** `parentProcess()`. */
  readonly parentProcess: typeof parentProcess;
  /** `activeChildren()`. */
  readonly activeChildren: typeof activeChildren;
  /** The start method of this context. */
  getStartMethod(): StartMethod;
}

function boundProcess(startMethod: StartMethod): typeof Process {
  class ContextProcess<F extends Target = Target> extends Process<F> {
    constructor(options: ProcessOptions<F> = {}) {
      super({ startMethod, ...options });
    }
  }
  Object.defineProperty(ContextProcess, "name", { value: "Process" });
  return ContextProcess;
}

function boundPool(startMethod: StartMethod): typeof Pool {
  class ContextPool extends Pool {
    constructor(options: number | PoolOptions = {}) {
      const o = typeof options === "number" ? { processes: options } : options;
      super({ startMethod, ...o });
    }
  }
  Object.defineProperty(ContextPool, "name", { value: "Pool" });
  return ContextPool;
}

/**
 * A context for a start method (the program's default when none is given),
 * as Python's `get_context`: what the module offers, with `Process` and
 * `Pool` bound to that method.
 *
 * @param method `"subprocess"` or `"worker"`.
 * @param options `warm`: how many children of this method to keep started
 * ahead (see {@link WarmOptions}).
 * @returns The context.
 * @throws {RangeError} On an unknown start method, or a `warm` that is not
 * a non-negative integer.
 *
 * @example Worker children and a worker pool without naming the method each time
 * ```ts
 * import { getContext } from "@mp/multiprocessing/context";
 * import { assertEquals } from "@std/assert";
 *
 * const ctx = getContext("worker");
 * assertEquals(ctx.getStartMethod(), "worker");
 * await using q = new ctx.Queue<number>();
 * await q.put(1);
 * assertEquals(await q.get(), 1);
 * ```
 */
export function getContext(method?: StartMethod, options: WarmOptions = {}): Context {
  const startMethod = method === undefined
    ? getStartMethod() ?? "subprocess"
    : checkMethod(method, "get a context");
  if (options.warm !== undefined) warmTo(startMethod, checkWarm(options.warm, "get a context"));
  return {
    startMethod,
    Process: boundProcess(startMethod),
    Pool: boundPool(startMethod),
    Manager,
    BaseManager,
    Queue,
    JoinableQueue,
    SimpleQueue,
    Pipe,
    Lock,
    RLock,
    Semaphore,
    BoundedSemaphore,
    Event,
    Condition,
    Barrier,
    Value,
    Array: SharedArray,
    cpuCount,
    currentProcess,
    parentProcess,
    activeChildren,
    getStartMethod: () => startMethod,
  };
}

/**
 * Sets the program's default start method, once, as Python's
 * `set_start_method`. Children inherit it.
 *
 * @param method `"subprocess"` or `"worker"`.
 * @param options `force: true` replaces a method already set; `warm`
 * keeps that many children of the method started ahead (see
 * {@link WarmOptions}).
 * @throws {RangeError} On an unknown start method.
 * @throws {Error} When a method was already set and `force` is not given.
 *
 * @example Choose the start method once
 * ```ts
 * import { getStartMethod, setStartMethod } from "@mp/multiprocessing/context";
 * import { assertEquals } from "@std/assert";
 *
 * setStartMethod("worker", { force: true });
 * assertEquals(getStartMethod(), "worker");
 * setStartMethod(undefined, { force: true });
 * ```
 */
export function setStartMethod(
  method: StartMethod | undefined,
  options: { force?: boolean } & WarmOptions = {},
): void {
  const s = state();
  if (s.startMethod !== undefined && !options.force) {
    throw new Error(
      `Cannot set the start method: it is already '${s.startMethod}'; pass { force: true }`,
    );
  }
  s.startMethod = method === undefined ? undefined : checkMethod(method, "set the start method");
  const warm = options.warm === undefined
    ? undefined
    : checkWarm(options.warm, "set the start method");
  if (warm !== undefined) warmTo(s.startMethod ?? "subprocess", warm);
}

/**
 * Keeps `count` spares of `method` (`spares.ts`, loaded here: a child
 * importing this module loads no launcher), with the runtime arguments
 * of now.
 */
function warmTo(method: StartMethod, count: number): void {
  const runtimeArgs = [...state().runtimeArgs];
  // One promise: the counts asked for are set in the order asked.
  spares().then((m) => m.setWarm(method, count, runtimeArgs));
}

const spares = once(() => import("./_internal/process/spares.ts"));

/** Options that keep children of a start method booted ahead of their start. */
export interface WarmOptions {
  /**
   * How many children of this start method to keep started ahead, waiting
   * for their task (Python's forkserver idea): a start takes one and a new
   * one is started in the background. They never keep the program alive,
   * are not in `activeChildren()`, and end with the program. A child that
   * asks for other permissions or runtime flags than the defaults starts
   * cold. While it waits, a spare imports the modules of the last targets
   * started on spares (their top-level code runs there, before the child
   * knows its name). `0` stops them.
   * @default {0}
   */
  warm?: number;
}

function checkWarm(warm: unknown, what: string): number {
  if (!Number.isInteger(warm) || (warm as number) < 0) {
    throw new RangeError(`Cannot ${what}: 'warm' must be a non-negative integer, received ${warm}`);
  }
  return warm as number;
}

/**
 * The program's default start method.
 *
 * @returns The method set with `setStartMethod` (a child has its parent's),
 * or undefined when none was set (then `"subprocess"` is used).
 *
 * @example No start method chosen yet
 * ```ts
 * import { getStartMethod } from "@mp/multiprocessing/context";
 * import { assertEquals } from "@std/assert";
 *
 * assertEquals(getStartMethod(), undefined);
 * ```
 */
export function getStartMethod(): StartMethod | undefined {
  return state().startMethod;
}

/**
 * Sets the `deno run` flags every subprocess child gets unless its options
 * say otherwise: what this process cannot detect about how it was started
 * (`--import-map=…`, `--config=…`, `--unstable-*`, `--v8-flags=…`,
 * `--cached-only`). Children pass them on to their own children.
 *
 * @param args The flags.
 * @throws {TypeError} When `args` is not an array of strings.
 *
 * @example Pass Deno flags to every child
 * ```ts
 * import { getRuntimeArgs, setRuntimeArgs } from "@mp/multiprocessing/context";
 * import { assertEquals } from "@std/assert";
 *
 * setRuntimeArgs(["--cached-only"]);
 * assertEquals(getRuntimeArgs(), ["--cached-only"]);
 * setRuntimeArgs([]);
 * ```
 */
export function setRuntimeArgs(args: string[]): void {
  if (!Array.isArray(args) || args.some((a) => typeof a !== "string")) {
    throw new TypeError(
      "Cannot set runtime args: expected an array of strings",
    );
  }
  state().runtimeArgs = [...args];
}

/**
 * The context-wide `deno run` flags for subprocess children.
 *
 * @returns A copy of the flags set with {@link setRuntimeArgs} (a child has
 * its parent's).
 *
 * @example The flags children get
 * ```ts
 * import { getRuntimeArgs } from "@mp/multiprocessing/context";
 * import { assert } from "@std/assert";
 *
 * assert(Array.isArray(getRuntimeArgs()));
 * ```
 */
export function getRuntimeArgs(): string[] {
  return [...state().runtimeArgs];
}

/**
 * Every start method, as Python's `get_all_start_methods()`.
 *
 * @returns `["subprocess", "worker"]`.
 *
 * @example The start methods this platform has
 * ```ts
 * import { getAllStartMethods } from "@mp/multiprocessing/context";
 * import { assertEquals } from "@std/assert";
 *
 * assertEquals(getAllStartMethods(), ["subprocess", "worker"]);
 * ```
 */
export function getAllStartMethods(): StartMethod[] {
  return [...METHODS];
}
