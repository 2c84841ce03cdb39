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
 * import { getContext } from "./context.ts";
 * import { assertEquals } from "@std/assert";
 *
 * const ctx = getContext("worker");
 * assertEquals(ctx.startMethod, "worker");
 * ```
 *
 * @module
 */

import { Process, type ProcessOptions, type StartMethod } from "./process.ts";
import { state } from "./_internal/base/state.ts";
import { setWarm } from "./_internal/process/spares.ts";

export { AuthenticationError, ProcessError, RemoteError } from "./_internal/base/errors.ts";
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

/** A start method and the classes bound to it. */
export interface Context {
  /** The start method of this context. */
  readonly startMethod: StartMethod;
  /** `Process` with this context's start method as its default. */
  readonly Process: typeof Process;
  /** The start method of this context. */
  getStartMethod(): StartMethod;
}

/**
 * A context for a start method (the program's default when none is given).
 *
 * @param method `"subprocess"` or `"worker"`.
 * @param options `warm`: how many children of this method to keep started
 * ahead (see {@link WarmOptions}).
 * @returns The context; its `Process` starts children with that method.
 * @throws {RangeError} On an unknown start method, or a `warm` that is not
 * a non-negative integer.
 *
 * @example
 * ```ts
 * import { getContext } from "./context.ts";
 * import { assertEquals } from "@std/assert";
 *
 * const { Process } = getContext("worker");
 * assertEquals(new Process().name.startsWith("Process-"), true);
 * ```
 */
export function getContext(method?: StartMethod, options: WarmOptions = {}): Context {
  const startMethod = method === undefined
    ? getStartMethod() ?? "subprocess"
    : checkMethod(method, "get a context");
  if (options.warm !== undefined) setWarm(startMethod, checkWarm(options.warm, "get a context"));
  class ContextProcess extends Process {
    constructor(options: ProcessOptions = {}) {
      super({ startMethod, ...options });
    }
  }
  Object.defineProperty(ContextProcess, "name", { value: "Process" });
  return {
    startMethod,
    Process: ContextProcess,
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
 * @example
 * ```ts
 * import { getStartMethod, setStartMethod } from "./context.ts";
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
  if (warm !== undefined) setWarm(s.startMethod ?? "subprocess", warm);
}

/** Options that keep children of a start method booted ahead of their start. */
export interface WarmOptions {
  /**
   * How many children of this start method to keep started ahead, waiting
   * for their task (Python's forkserver idea): a start takes one and a new
   * one is started in the background. They never keep the program alive,
   * are not in `activeChildren()`, and end with the program. A child that
   * asks for other permissions or runtime flags than the defaults starts
   * cold. `0` stops them.
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
 * The program's default start method, or undefined when none was set (then
 * `"subprocess"` is used).
 *
 * @example
 * ```ts
 * import { getStartMethod } from "./context.ts";
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
 * @example
 * ```ts
 * import { getRuntimeArgs, setRuntimeArgs } from "./context.ts";
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
 * @example
 * ```ts
 * import { getRuntimeArgs } from "./context.ts";
 * import { assert } from "@std/assert";
 *
 * assert(Array.isArray(getRuntimeArgs()));
 * ```
 */
export function getRuntimeArgs(): string[] {
  return [...state().runtimeArgs];
}
