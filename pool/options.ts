/**
 * The options of a `Pool` and of its calls, and their checks at the
 * boundary.
 *
 * @module
 */

import { checkOptionNames, optionNames } from "../_internal/base/options.ts";
import { state } from "../_internal/base/state.ts";
import { type CloneMode, cloneMode } from "../_internal/wire/plain.ts";
import { cpuCount, type Permissions, type StartMethod, type Target } from "../process.ts";
import type { PoolCallOptions, PoolMapOptions } from "./pool_like.ts";

/** The names of the options of `new Pool()`. */
export const POOL_OPTIONS = optionNames(
  "processes",
  "initializer",
  "initargs",
  "maxTasksPerChild",
  "startMethod",
  "permissions",
  "module",
  "runtimeArgs",
  "clone",
);
/** The names of the options of a call. */
export const CALL_OPTIONS = optionNames("callback", "errorCallback", "signal", "module", "clone");
/** The names of the options of a map. */
export const MAP_OPTIONS = optionNames(...CALL_OPTIONS, "chunksize", "onProgress", "progress");

/** Options of {@link Pool}. */
export interface PoolOptions {
  /** Number of workers. @default {cpuCount()} */
  processes?: number;
  /** An exported function each worker runs once before its first task. */
  initializer?: Target;
  /** Arguments of `initializer`. @default {[]} */
  initargs?: unknown[];
  /**
   * Tasks a worker runs before it is replaced by a fresh one (a positive
   * integer, as Python's); no limit when absent.
   * @default {undefined}
   */
  maxTasksPerChild?: number;
  /** How workers start. @default {getStartMethod() ?? "subprocess"} */
  startMethod?: StartMethod;
  /** Permissions of subprocess workers (see `Process`). @default {"inherit"} */
  permissions?: Permissions;
  /** URL of the module exporting the task functions. @default {the main module} */
  module?: string | URL;
  /** Extra `deno run` flags for subprocess workers. @default {getRuntimeArgs()} */
  runtimeArgs?: string[];
  /**
   * How arguments and results are copied: `"strict"` refuses an object of
   * a class of your own among them (it would arrive as a plain object,
   * without its methods) with a `DataCloneError` naming the class and its
   * path (`args[0].point`, `items[3]`, `result`); `"plain"` copies such
   * objects as plain data. Calls may say otherwise.
   * @default {"strict"}
   */
  clone?: CloneMode;
}

/** Per-call options of a local pool. */
export interface CallOptions<T> extends PoolCallOptions<T> {
  /** How this call's arguments and results are copied (see {@link PoolOptions.clone}). */
  clone?: CloneMode;
}

/** Per-call options of a local pool's map family (`chunksize`: Python's default for `map`, 1 for `imap`). */
export interface MapOptions<T> extends CallOptions<T>, PoolMapOptions<T> {}

/** A pool's options, checked, with their defaults filled in. */
export type PoolSettings = Required<Omit<PoolOptions, "initializer" | "module">> & PoolOptions;

/**
 * The clone mode of a call: its own, or the pool's.
 *
 * @throws {TypeError} On a mode that is not one.
 */
export function callClone(settings: PoolSettings, options: CallOptions<never>): CloneMode {
  return options.clone === undefined ? settings.clone : cloneMode("submit task", options.clone);
}

/**
 * Checks `new Pool(options)`'s options and fills in the defaults.
 *
 * @throws {TypeError} On an unknown option, or an `initializer` that is not a function.
 * @throws {RangeError} When `processes` or `maxTasksPerChild` is not a positive integer.
 */
export function poolSettings(options: number | PoolOptions): PoolSettings {
  const o = typeof options === "number" ? { processes: options } : options;
  checkOptionNames("create pool", o, POOL_OPTIONS);
  const processes = o.processes ?? cpuCount();
  if (!Number.isInteger(processes) || processes < 1) {
    throw new RangeError(
      `Cannot create pool: 'processes' must be a positive integer, received ${processes}`,
    );
  }
  const maxTasks = o.maxTasksPerChild;
  if (maxTasks !== undefined && !(Number.isInteger(maxTasks) && maxTasks >= 1)) {
    throw new RangeError(
      `Cannot create pool: 'maxTasksPerChild' must be a positive integer, received ${maxTasks}`,
    );
  }
  if (o.initializer !== undefined && typeof o.initializer !== "function") {
    throw new TypeError(
      `Cannot create pool: 'initializer' must be a function, received ${typeof o.initializer}`,
    );
  }
  return {
    ...o,
    processes,
    maxTasksPerChild: maxTasks ?? 0,
    initargs: o.initargs ?? [],
    startMethod: o.startMethod ?? state().startMethod ?? "subprocess",
    permissions: o.permissions ?? "inherit",
    runtimeArgs: o.runtimeArgs ?? state().runtimeArgs,
    clone: cloneMode("create pool", o.clone),
  };
}
