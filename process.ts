/**
 * `Process`: run a function in another OS process or in a worker, with the
 * API of Python's `multiprocessing.Process`.
 *
 * Targets are functions exported from a module (the main module unless
 * `module` says otherwise). A child imports that module as an ordinary
 * module, so code under `if (import.meta.main)` runs only in the parent, as
 * code under Python's `if __name__ == "__main__":` does.
 *
 * @example Start, join and read the exit code
 * ```ts
 * import { Process } from "@mp/multiprocessing/process";
 * import { exitWith } from "@mp/multiprocessing/targets";
 * import { assertEquals } from "@std/assert";
 *
 * // In a program this would be an exported function of the main module.
 * const module = import.meta.resolve("@mp/multiprocessing/targets");
 *
 * const p = new Process({ target: exitWith, args: [3], module });
 * await p.start();
 * await p.join();
 * assertEquals(p.exitCode, 3);
 * ```
 *
 * @module
 */

// A compiled binary started as a child or reaper is told so here (its main
// module imports the library): see `standalone.ts`.
import "./_internal/process/standalone.ts";
import {
  CURRENT_SPEC,
  PROCESS_BRAND,
  READ_REPORT,
  SANDBOX_ID,
  TRANSFER,
} from "./_internal/base/symbols.ts";
import { ProcessError } from "./_internal/base/errors.ts";
import { validateOptions } from "./_internal/process/options.ts";
import { newSandboxId } from "./_internal/transport/keys.ts";
import { hasHandles } from "./_internal/hub/handles.ts";
import type { Popen } from "./_internal/process/popen.ts";
import { fingerprint } from "./_internal/process/target.ts";
import type { Permissions } from "./_internal/process/permissions.ts";
import type { TaskSpec } from "./_internal/process/task_spec.ts";
import { type ChildHandle, type StartMethod, state } from "./_internal/base/state.ts";
import { abortable, once, raceTimer } from "./_internal/base/async.ts";
import { timedWait, type WaitOptions } from "./_internal/base/waits.ts";
import { callSite, withCallSite } from "./_internal/base/call_site.ts";
import { logger } from "./_internal/base/log.ts";
import { checkPlain, type CloneMode, cloneMode } from "./_internal/wire/plain.ts";

export type { CloneMode } from "./_internal/wire/plain.ts";

export type { Permissions, PermissionsObject } from "./_internal/process/permissions.ts";
export type { StartMethod } from "./_internal/base/state.ts";

/** A function a child can run: exported from a module, arguments cloneable. */
// deno-lint-ignore no-explicit-any
export type Target = (...args: any[]) => unknown;

/**
 * Options of {@link Process}.
 *
 * @typeParam F The target's type: `args` is typed from its parameters.
 */
export interface ProcessOptions<F extends Target = Target> {
  /**
   * The function the child runs. It must be exported from `module`.
   * Without one, the child runs {@link Process.run} (override it in an
   * exported subclass) or does nothing.
   */
  target?: F;
  /**
   * Arguments for the target, cloned with structured-clone semantics.
   * @default {[]}
   */
  args?: Readonly<Parameters<F>>;
  /**
   * The process name.
   * @default {"Process-N"} (`Process-N:M` in a child), after the class name
   */
  name?: string;
  /**
   * Whether the child is daemonic: terminated, not waited for, when this
   * process exits; a daemonic process may not start children.
   * @default {the current process's flag (false in the main process)}
   */
  daemon?: boolean;
  /**
   * How the child starts: an OS process running `deno run`, or a Web Worker.
   * @default {getStartMethod() ?? "subprocess"}
   */
  startMethod?: StartMethod;
  /**
   * Permissions of the child: `"inherit"` (what this process holds
   * globally), `"none"`, or per kind. The child always gets what it needs to
   * reach its parent's socket and read the modules it imports. For a worker
   * child, Deno needs `--unstable-worker-options` to narrow them.
   * @default {"inherit"}
   */
  permissions?: Permissions;
  /**
   * URL of the module that exports the target (or the Process subclass).
   * @default {the main module}
   */
  module?: string | URL;
  /**
   * Extra `deno run` flags for a subprocess child that this process cannot
   * detect: `--import-map=…`, `--config=…`, `--unstable-*`, `--v8-flags=…`,
   * `--cached-only`. The `deno.json` found from the main module is passed on
   * automatically.
   * @default {getRuntimeArgs()}
   */
  runtimeArgs?: string[];
  /**
   * How the arguments are copied: `"strict"` refuses an object of a class
   * of your own among them (it would arrive as a plain object, without its
   * methods) with a `DataCloneError` naming the class and its path
   * (`args[0].point`); `"plain"` copies such objects as plain data.
   * @default {"strict"}
   */
  clone?: CloneMode;
}

const STATES = ["initial", "starting", "started", "closed"] as const;
type Lifecycle = (typeof STATES)[number];
type Role = "child" | "current" | "parent";

const BOOTSTRAP_ERROR = "An attempt has been made to start a new process before the current " +
  "process has finished its bootstrapping phase. This probably means that the module a child " +
  "imports starts processes at its top level. Guard that code with the proper idiom in the " +
  "main module: if (import.meta.main) { ... }";

/** The launcher of each start method, loaded by its first start. */
const launcherOf = {
  subprocess: once(() => import("./_internal/process/popen_subprocess.ts")),
  worker: once(() => import("./_internal/process/popen_worker.ts")),
};

/** The spares and the task's packer, loaded by the first start. */
const starting = once(() =>
  Promise.all([
    import("./_internal/process/spares.ts"),
    import("./_internal/process/pack_spec.ts"),
  ])
);

/**
 * A child process (or worker) running a target function, as Python's
 * `multiprocessing.Process`. Every method that crosses to the child is
 * async; `terminate`, `kill` and `isAlive` act at once.
 *
 * Exit codes follow Python: 0 when the target returns, 1 when it throws (its
 * stack is printed on the child's stderr), `n` for `Deno.exit(n)`, `-15`
 * after {@link Process.terminate} and `-9` after {@link Process.kill}, for
 * both start methods.
 *
 * @example A worker child
 * ```ts
 * import { Process } from "@mp/multiprocessing/process";
 * import { noop } from "@mp/multiprocessing/targets";
 * import { assertEquals } from "@std/assert";
 *
 * const module = import.meta.resolve("@mp/multiprocessing/targets");
 * await using p = new Process({ target: noop, module, startMethod: "worker" });
 * await p.start();
 * await p.join();
 * assertEquals(p.exitCode, 0);
 * ```
 */
export class Process<F extends Target = Target> {
  /**
   * Marks the class so a child finds the base of an exported subclass.
   *
   * @ignore
   */
  static readonly [PROCESS_BRAND]: boolean = true;

  #target: Target | undefined;
  #args: unknown[];
  #name: string;
  #daemon: boolean;
  #identity: number[];
  #startMethod: StartMethod | undefined;
  #permissions: Permissions;
  #module: string | undefined;
  #runtimeArgs: string[] | undefined;
  #clone: CloneMode = "strict";
  #lifecycle: Lifecycle = "initial";
  #role: Role = "child";
  #popen: Popen | undefined;
  #starting: Promise<void> | undefined;
  #pid: number | undefined;
  #ident: string | undefined;
  /** A sandboxed child's key id (see `_internal/hub/grants.ts`). */
  #kid: string | undefined;
  #report = false;
  /** Objects among the arguments moved to a worker child (the internal `TRANSFER` option). */
  #transfer: Transferable[] | undefined;

  /**
   * Creates a process object; nothing starts until {@link Process.start}.
   *
   * @param options What to run and how.
   * @throws {TypeError} When an option has the wrong type.
   * @throws {RangeError} When `startMethod` is not a start method.
   */
  constructor(options: ProcessOptions<F> = {}) {
    const special = (options as Record<symbol, unknown>)[CURRENT_SPEC] as
      | (Partial<TaskSpec> & { role?: Role; pid?: number; ident?: string })
      | undefined;
    const s = state();
    if (special) {
      this.#role = special.role ?? "current";
      this.#name = special.name ?? s.name;
      this.#identity = special.identity ?? s.identity;
      this.#daemon = special.daemon ?? s.daemon;
      this.#args = [];
      this.#permissions = "inherit";
      this.#pid = special.pid ?? Deno.pid;
      this.#ident = special.ident ?? s.ident;
      this.#lifecycle = "started";
      if (this.#role === "current") s.current = this;
      return;
    }
    validateOptions(options);
    this.#target = options.target;
    this.#args = (options.args ?? []) as unknown[];
    this.#identity = [...s.identity, ++s.childCounter];
    this.#name = options.name ??
      `${new.target.name}-${this.#identity.join(":")}`;
    this.#daemon = options.daemon ?? s.daemon;
    this.#startMethod = options.startMethod;
    this.#permissions = options.permissions ?? "inherit";
    this.#module = options.module === undefined ? undefined : String(options.module);
    this.#runtimeArgs = options.runtimeArgs;
    // Narrowed permissions: a sandbox, with a key of its own, never the tree's.
    const internal = options as Record<symbol, unknown>;
    if (this.#permissions !== "inherit") {
      this.#kid = internal[SANDBOX_ID] as string | undefined ?? newSandboxId();
    }
    this.#report = internal[READ_REPORT] === true;
    this.#transfer = internal[TRANSFER] as Transferable[] | undefined;
    this.#clone = cloneMode("create process", options.clone);
  }

  /** The process name. */
  get name(): string {
    return this.#name;
  }

  set name(value: string) {
    if (typeof value !== "string") {
      throw new TypeError(
        `Cannot set name: expected a string, received ${typeof value}`,
      );
    }
    this.#name = value;
  }

  /** Whether the process is daemonic; settable only before it starts. */
  get daemon(): boolean {
    return this.#daemon;
  }

  set daemon(value: boolean) {
    if (this.#lifecycle !== "initial") {
      throw new ProcessError(
        `Cannot set daemon of process '${this.#name}': it has already started`,
      );
    }
    this.#daemon = Boolean(value);
  }

  /** OS process id once started (for a worker child, the process it runs in), else undefined. */
  get pid(): number | undefined {
    return this.#popen?.pid ?? this.#pid;
  }

  /** Unique id of the process or worker once started, else undefined. */
  get ident(): string | undefined {
    return this.#popen?.ident ?? this.#ident;
  }

  /**
   * The authentication key of this process tree (a copy): what its
   * children, queues, locks and managers prove to each other, as Python's
   * `Process.authkey`. A getter, never an own field: `console.log` of a
   * process does not print it, and the library never logs keys.
   */
  get authkey(): Uint8Array {
    return state().authkey.slice();
  }

  /** Exit code once the child has exited, else null (also before start). */
  get exitCode(): number | null {
    return this.#popen?.exitCode ?? null;
  }

  /**
   * Resolves with the exit code when the child exits: what Python's
   * sentinel handle is for, usable with `Promise.race`.
   *
   * @throws {ProcessError} When the process has not started.
   */
  get sentinel(): Promise<number> {
    this.#check("read the sentinel of");
    if (!this.#popen) {
      throw new ProcessError(
        `Cannot read the sentinel of process '${this.#name}': it has not started`,
      );
    }
    return this.#popen.exited;
  }

  /**
   * What the child runs. The default calls the `target` with `args`;
   * override it in a subclass exported from a module to run that instead
   * (the subclass's own enumerable fields are cloned to the child).
   *
   * @returns What the target returns; the child awaits it, and exits with
   * code 1 when it throws or rejects.
   */
  run(): unknown {
    return this.#target?.(...this.#args);
  }

  /**
   * Starts the child and resolves once it runs its target. An error from
   * the child's side carries this call's stack after a `Submitted at:` line.
   *
   * @returns Resolves once the child runs its target.
   * @throws {TypeError} When the target is not an exported function of its
   * module (the message names the fix, and where an imported target is
   * exported).
   * @throws {DOMException} `DataCloneError` when an argument cannot be
   * cloned, or holds an object of a class of your own (see `clone`).
   * @throws {Deno.errors.NotCapable} Naming at once every permission flag
   * the start needs and this program lacks.
   * @throws {ProcessError} When started twice, closed, during a child's
   * bootstrapping phase, in a daemonic process, or when the child dies first.
   */
  start(): Promise<void> {
    try {
      this.#check("start");
      if (this.#role !== "child") {
        throw new ProcessError(
          `Cannot start process '${this.#name}': it is a running process, not a new one`,
        );
      }
      if (this.#lifecycle !== "initial") {
        throw new ProcessError(
          `Cannot start process '${this.#name}': a process can only be started once`,
        );
      }
      const s = state();
      if (s.bootstrapping) throw new ProcessError(BOOTSTRAP_ERROR);
      if (s.daemon) {
        throw new ProcessError(
          `Cannot start process '${this.#name}': daemonic processes are not allowed to have children`,
        );
      }
      const spec = this.#spec();
      if (this.#clone === "strict") {
        // What moves to the child is not copied: not checked as a copy.
        const moved = this.#transfer ?? [];
        checkPlain(spec.args.map((a) => moved.includes(a as Transferable) ? null : a), "args");
        checkPlain(spec.fields, "this");
      }
      if (this.#transfer && (this.#startMethod ?? s.startMethod ?? "subprocess") !== "worker") {
        throw new TypeError(
          `Cannot start process '${spec.name}': only a worker child takes a transfer`,
        );
      }
      this.#lifecycle = "starting";
      const site = callSite(this.start);
      this.#starting = this.#launch(spec).catch((err) => {
        throw withCallSite(err, site);
      });
      return this.#starting;
    } catch (err) {
      return Promise.reject(err);
    }
  }

  #spec(): TaskSpec {
    const s = state();
    const isClass = Object.getPrototypeOf(this) !== Process.prototype &&
      this.run !== Process.prototype.run;
    const target: Target | undefined = isClass ? this.constructor as Target : this.#target;
    const module = this.#module ?? s.mainModule;
    if (target && !target.name) {
      throw new TypeError(
        `Cannot start process '${this.#name}': the target is an anonymous function; ` +
          `a target must be a named function exported from a module`,
      );
    }
    if (target && !module) {
      throw new TypeError(
        `Cannot start process '${this.#name}': no main module is known; pass 'module'`,
      );
    }
    return {
      module: module ?? "",
      exportName: target?.name ?? "",
      fingerprint: target ? fingerprint(target) : "",
      kind: isClass ? "class" : target ? "function" : "none",
      args: isClass ? [] : this.#args,
      fields: isClass ? { ...this } as Record<string, unknown> : {},
      name: this.#name,
      identity: this.#identity,
      daemon: this.#daemon,
      parent: { name: s.name, pid: Deno.pid, ident: s.ident },
      runtimeArgs: this.#runtimeArgs ?? s.runtimeArgs,
      transport: s.transport,
      // Absent rather than undefined: undefined would take the spec off the
      // JSON fast path, and the child would load node:v8 (~15 ms) to read it.
      ...(s.mainModule === undefined ? {} : { mainModule: s.mainModule }),
      ...(Deno.args.length === 0 ? {} : { argv: [...Deno.args] }),
      // Children of a process that logs to stderr do too, as Python's.
      ...(logger().stderrLevel ? { log: logger().stderrLevel } : {}),
      ...(s.startMethod === undefined ? {} : { startMethod: s.startMethod }),
    };
  }

  /** Starts the child and tracks it until it exits. */
  async #launch(spec: TaskSpec): Promise<void> {
    const method = this.#startMethod ?? state().startMethod ?? "subprocess";
    const log = logger();
    try {
      this.#popen = await this.#open(spec, method);
    } catch (err) {
      // Nothing started: the process may be started again, as Python's.
      this.#lifecycle = "initial";
      log.warning(`${spec.name} failed to start: ${(err as Error)?.message ?? err}`);
      throw err;
    }
    this.#lifecycle = "started";
    const popen = this.#popen;
    log.info(`${spec.name} started (pid ${popen.pid}, ident ${popen.ident})`);
    const children: Set<ChildHandle> = state().children;
    children.add(this);
    popen.exited.then((code) => {
      children.delete(this);
      log.log(code === 0 ? "info" : "warning", `${spec.name} exited with code ${code}`);
    });
  }

  /**
   * Starts the child. What starts one loads here, when a process first
   * starts: a child imports its target's module, and a module beside a
   * `Process` would otherwise make each child load both launchers, the
   * spares, the hub and its sockets (10 ms of its start) to start nothing.
   */
  async #open(spec: TaskSpec, method: StartMethod): Promise<Popen> {
    const [launcher, [{ launchWarm }, { packSpec }]] = await Promise.all([
      launcherOf[method](),
      starting(),
    ]);
    // Everything this start needs, asked of Deno at once, before anything
    // opens: for a subprocess, its hub and Deno's executable; for a worker
    // with narrowed permissions given handles, the hub's socket they are
    // reached through (a worker with this process's permissions reaches a
    // hub that may not listen over ports: `hub/ports.ts`).
    if ("checkSpawn" in launcher) launcher.checkSpawn(spec.name);
    else {
      const handles = hasHandles(spec.args) || hasHandles(spec.fields);
      launcher.checkThread(spec.name, spec.module, this.#permissions !== "inherit" && handles);
    }
    // Queues, pipe ends and locks travel as descriptors, revived in the child.
    // A worker child gets its task by postMessage: shared memory is shared.
    // One with this process's permissions reaches a hub with no socket over ports.
    const toWorker = method === "worker" && this.#permissions === "inherit";
    await packSpec(spec, { sharedMemory: method === "worker", toWorker }, this.#kid);
    if (this.#report) spec.report = true;
    const opts = {
      spec,
      permissions: this.#permissions,
      runtimeArgs: this.#runtimeArgs ?? state().runtimeArgs,
      ...(this.#transfer ? { transfer: this.#transfer } : {}),
    };
    logger().info(`starting ${spec.name} (${method}) running ${describeTarget(spec)}`);
    // A warm spare when one is ready and the child asks for the defaults.
    return await (launchWarm(method, opts, this.#daemon) ??
      ("launchWorker" in launcher
        ? launcher.launchWorker(opts, this.#daemon)
        : launcher.launchSubprocess(opts, this.#daemon)));
  }

  /**
   * The report a child started with the internal report option sends over
   * its launch channel (a manager's address), once it does.
   *
   * @ignore
   */
  [READ_REPORT](): Promise<unknown> {
    if (!this.#popen?.report) {
      return Promise.reject(new ProcessError(`Process '${this.#name}' has no report channel`));
    }
    return this.#popen.report();
  }

  /**
   * Waits until the child exits, or until `timeout` ms have passed; like
   * Python's `join`, it resolves either way: check {@link Process.exitCode}.
   *
   * @param options Milliseconds to wait at most (`0` checks and returns at
   * once; for ever when absent), or `{ timeout, signal }`.
   * @returns Resolves once the child has exited, or at the timeout (the
   * child still running: `exitCode` is then `null`).
   * @throws {ProcessError} When the process was never started, or is the current one.
   * @throws {RangeError} When `timeout` is negative or not a number.
   * @throws {TypeError} On an unknown option.
   * @throws The signal's reason once it aborts the wait (the child runs on).
   */
  async join(options?: number | WaitOptions): Promise<void> {
    this.#check("join");
    const { timeout, signal } = timedWait(`join process '${this.#name}'`, options);
    if (this.#role !== "child") {
      throw new ProcessError(
        `Cannot join process '${this.#name}': a process cannot join itself or its parent`,
      );
    }
    if (this.#lifecycle === "initial") {
      throw new ProcessError(
        `Cannot join process '${this.#name}': it was never started`,
      );
    }
    if (this.#starting) await this.#starting;
    const popen = this.#popen!;
    // An exited child's exit code comes first; what it sent before it died
    // may still be being read: join() returns once that is done too, as
    // `exited` resolves (a test's sanitizers saw its connection still open).
    const running = popen.exitCode === null;
    // A daemonic child does not keep this process alive, except while joined.
    if (this.#daemon && running) popen.setRef(true);
    try {
      await abortable(raceTimer(popen.exited, timeout, () => undefined), signal);
    } finally {
      if (this.#daemon && running && popen.exitCode === null) popen.setRef(false);
    }
  }

  /**
   * Whether the child is running (for the current process: always true).
   *
   * @returns Whether it runs.
   * @throws {ProcessError} When the process object is closed (as Python's).
   */
  isAlive(): boolean {
    this.#check("check process");
    if (this.#role !== "child") return true;
    return this.#popen !== undefined && this.#popen.exitCode === null;
  }

  /**
   * Asks the child to stop: SIGTERM for a subprocess, termination for a
   * worker. The exit code becomes -15.
   *
   * @throws {ProcessError} When the process has not started or is closed.
   */
  terminate(): void {
    this.#started("terminate").terminate();
  }

  /**
   * Stops the child at once: SIGKILL for a subprocess, termination for a
   * worker. The exit code becomes -9.
   *
   * @throws {ProcessError} When the process has not started or is closed.
   */
  kill(): void {
    this.#started("kill").kill();
  }

  /**
   * Releases the process object; afterwards most methods throw. Idempotent.
   *
   * @throws {ProcessError} While the child is still running.
   */
  close(): void {
    if (this.#lifecycle === "closed") return;
    if (
      this.#lifecycle === "starting" ||
      (this.#popen && this.#popen.exitCode === null)
    ) {
      throw new ProcessError(
        `Cannot close process '${this.#name}' while it is still running: call join() or terminate() first`,
      );
    }
    this.#lifecycle = "closed";
  }

  /** Terminates the child if it still runs, waits for it to exit, then closes. */
  async [Symbol.asyncDispose](): Promise<void> {
    if (this.#lifecycle === "closed" || this.#role !== "child") return;
    if (this.#starting) await this.#starting.catch(() => {});
    if (this.#popen) {
      if (this.#popen.exitCode === null) this.#popen.terminate();
      await this.#popen.exited;
    }
    this.#lifecycle = "closed";
  }

  #check(action: string): void {
    if (this.#lifecycle === "closed") {
      throw new ProcessError(
        `Cannot ${action} process '${this.#name}': the process object is closed`,
      );
    }
  }

  #started(action: string): Popen {
    this.#check(action);
    if (this.#role !== "child") {
      throw new ProcessError(
        `Cannot ${action} process '${this.#name}': it is not a child of this process`,
      );
    }
    if (!this.#popen) {
      throw new ProcessError(
        `Cannot ${action} process '${this.#name}': it has not started`,
      );
    }
    return this.#popen;
  }
}

/** What a child runs, for the log: `module#export`. */
function describeTarget(spec: TaskSpec): string {
  return spec.kind === "none" ? "nothing" : `${spec.module}#${spec.exportName}`;
}

/**
 * The `Process` object standing for the current process: `MainProcess` at
 * the root, the child's own object (`Process-1`, …) in a child.
 *
 * @returns The current process's `Process`.
 *
 * @example This process's Process
 * ```ts
 * import { currentProcess } from "@mp/multiprocessing/process";
 * import { assertEquals } from "@std/assert";
 *
 * assertEquals(currentProcess().name, "MainProcess");
 * ```
 */
export function currentProcess(): Process {
  const s = state();
  return (s.current as Process | undefined) ??
    new Process({ [CURRENT_SPEC]: { role: "current" } } as ProcessOptions);
}

/**
 * The parent of the current process, or null at the root: its `name`,
 * `pid` and `ident`. Its `isAlive()` is true while this child runs (a
 * subprocess child exits when its parent dies).
 *
 * @returns The parent's `Process`, or null at the root.
 *
 * @example No parent at the root
 * ```ts
 * import { parentProcess } from "@mp/multiprocessing/process";
 * import { assertEquals } from "@std/assert";
 *
 * assertEquals(parentProcess(), null); // at the root
 * ```
 */
export function parentProcess(): Process | null {
  const parent = state().parent;
  if (!parent) return null;
  return new Process({
    [CURRENT_SPEC]: {
      role: "parent",
      name: parent.name,
      pid: parent.pid,
      ident: parent.ident,
      identity: [],
    },
  } as ProcessOptions);
}

/**
 * The children of this process that are still running.
 *
 * @returns Those children, as a new array.
 *
 * @example The children still running
 * ```ts
 * import { activeChildren } from "@mp/multiprocessing/process";
 * import { assertEquals } from "@std/assert";
 *
 * assertEquals(activeChildren().length, 0);
 * ```
 */
export function activeChildren(): Process[] {
  return [...state().children].filter((c) => c.isAlive()) as Process[];
}

/**
 * The number of logical CPUs, as Python's `cpu_count()`.
 *
 * @returns The count; 1 when it cannot be told.
 *
 * @example How many CPUs
 * ```ts
 * import { cpuCount } from "@mp/multiprocessing/process";
 * import { assert } from "@std/assert";
 *
 * assert(cpuCount() >= 1);
 * ```
 */
export function cpuCount(): number {
  return navigator.hardwareConcurrency || 1;
}

// Daemonic children end with this process; non-daemonic ones keep it alive
// until they exit, which is how they are joined.
globalThis.addEventListener("unload", () => {
  for (const child of state().children) {
    if (child.daemon && child.isAlive()) child.terminate();
  }
});
