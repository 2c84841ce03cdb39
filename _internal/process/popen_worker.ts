/**
 * The worker backend: a Web Worker entered through the child entry, talking
 * over its message port. Exit codes follow Python's: the child reports its
 * own (0, 1, or `n` from `Deno.exit(n)`, which is patched in a worker child
 * because Deno would end the worker silently), an uncaught error in the
 * worker is 1, and terminate/kill are -15/-9.
 *
 * @module
 */

import { CHILD_ENTRY_URL } from "./child.ts";
import { CLOSED, type MessagePortLike, PortChannel } from "../transport/channel.ts";
import { ProcessError } from "../base/errors.ts";
import { dropPeers, peersClosed, registerLocalWorker } from "../hub/server.ts";
import { recoverOwner } from "../primitives/lock_core.ts";
import { ownerOf } from "../primitives/sync_wait.ts";
import { type LaunchOptions, PEERS_CLOSE_MS, type Popen, sendTask } from "./popen.ts";
import { withAwakeTimeout } from "../base/async.ts";
import { findConfig, moduleReadPaths } from "./launch.ts";
import { PERMISSION_KINDS, type Permissions } from "./permissions.ts";
import { state } from "../base/state.ts";

class WorkerPopen implements Popen {
  readonly pid: number = Deno.pid;
  readonly ident: string;
  exitCode: number | null = null;
  readonly exited: Promise<number>;
  readonly port: PortChannel;
  #worker: Worker;
  #resolve!: (code: number | Promise<number>) => void;
  #lastError = "";
  #unregister: () => void;

  constructor(worker: Worker, name: string, identity: number[]) {
    this.#worker = worker;
    this.ident = `${Deno.pid}/${identity.join(":")}`;
    this.port = new PortChannel(worker as unknown as MessagePortLike);
    this.#unregister = registerLocalWorker(this.ident, worker as unknown as MessagePortLike);
    this.exited = new Promise((resolve) => (this.#resolve = resolve));
    worker.addEventListener("error", (e) => {
      // Unhandled, a worker's error would take the parent down with it.
      e.preventDefault();
      this.#lastError = e.message;
      console.error(
        `Process ${name}: ${e.message}${
          e.filename ? `\n    at ${e.filename}:${e.lineno}:${e.colno}` : ""
        }`,
      );
      this.#finish(1);
    });
    worker.addEventListener("messageerror", () => this.#finish(1));
  }

  /** Reads the messages a running child sends: only its exit code, for now. */
  async watch(): Promise<void> {
    while (this.exitCode === null) {
      const msg = await this.port.recv();
      if (msg === CLOSED) return;
      const m = msg as { op?: string; code?: number };
      if (m.op === "exit") this.#finish(m.code ?? 0);
    }
  }

  #finish(code: number): void {
    if (this.exitCode !== null) return;
    this.exitCode = code;
    this.#unregister();
    this.#worker.terminate();
    // Killed: its sockets can outlive it a while; let go of them now. After
    // a normal exit they close on their own, once what it sent is read.
    if (code === -9 || code === -15) dropPeers(this.ident);
    // Locks it held in shared memory would otherwise stay held forever.
    recoverOwner(ownerOf(this.ident));
    this.port.end();
    this.#resolve(peersClosed(this.ident, PEERS_CLOSE_MS).then(() => code));
  }

  describeExit(): string {
    return `the worker exited with code ${this.exitCode ?? "(none)"} before it started its target` +
      (this.#lastError ? `: ${this.#lastError}` : "");
  }

  setRef(): void {
    // A Web Worker cannot be unref'd: it keeps its parent alive until it exits.
  }

  terminate(): void {
    this.#finish(-15);
  }

  kill(): void {
    this.#finish(-9);
  }
}

/**
 * Deno's worker permissions for a narrowed child, plus read access to the
 * modules it must import (the target's module is a dynamic import).
 */
function workerPermissions(
  p: Exclude<Permissions, "inherit">,
  module: string,
): Deno.PermissionOptions {
  const out: Record<string, unknown> = {};
  for (const kind of PERMISSION_KINDS) {
    const v = p === "none" ? false : p[kind] ?? false;
    out[kind] = Array.isArray(v) ? v.map((x) => x instanceof URL ? x.pathname : x) : v;
  }
  if (out.read !== true && out.read !== "inherit") {
    out.read = [
      ...(Array.isArray(out.read) ? out.read : []),
      ...moduleReadPaths(module),
    ];
  }
  return out as Deno.PermissionOptions;
}

/**
 * Whether Deno will accept worker permissions. Without the unstable flag,
 * Deno prints a message and exits the whole process instead of throwing,
 * so look first: the command line (Linux) and the config's "unstable" list.
 * Undefined when neither can be read.
 */
function workerOptionsEnabled(): boolean | undefined {
  let known = false;
  try {
    const cmdline = Deno.readTextFileSync("/proc/self/cmdline").split("\0");
    if (
      cmdline.some((a) => a === "--unstable-worker-options" || a === "--unstable")
    ) return true;
    known = true;
  } catch { /* not Linux, or no permission */ }
  const config = findConfig(state().mainModule);
  if (config) {
    try {
      const unstable = JSON.parse(Deno.readTextFileSync(config)).unstable;
      if (Array.isArray(unstable) && unstable.includes("worker-options")) {
        return true;
      }
    } catch { /* jsonc or unreadable: unknown */ }
  }
  return known ? false : undefined;
}

/** Starts a worker child; resolves once it runs its target. */
export async function launchWorker(opts: LaunchOptions): Promise<Popen> {
  const { spec } = opts;
  const options: WorkerOptions & {
    deno?: { permissions: Deno.PermissionOptions };
  } = {
    type: "module",
    name: spec.name,
  };
  if (opts.permissions !== "inherit") {
    if (workerOptionsEnabled() === false) {
      throw new ProcessError(
        `Cannot start process '${spec.name}': narrowing a worker child's permissions needs ` +
          `Deno's --unstable-worker-options flag (or "unstable": ["worker-options"] in deno.json)`,
      );
    }
    options.deno = {
      permissions: workerPermissions(opts.permissions, spec.module),
    };
  }
  let worker: Worker;
  try {
    worker = new Worker(CHILD_ENTRY_URL, options);
  } catch (err) {
    throw new ProcessError(
      `Cannot start process '${spec.name}': ${(err as Error).message}` +
        (options.deno ? " (worker permissions need the --unstable-worker-options flag)" : ""),
      { cause: err },
    );
  }
  const popen = new WorkerPopen(worker, spec.name, spec.identity);
  try {
    const started = sendTask(
      popen.port,
      { ...spec, authkey: state().authkey },
      () => popen.describeExit(),
    );
    await withAwakeTimeout(
      started,
      state().startTimeoutMs,
      () =>
        `Cannot start process '${spec.name}': the worker did not start its target within ${state().startTimeoutMs} ms`,
    );
  } catch (err) {
    popen.kill();
    throw err;
  }
  popen.watch();
  return popen;
}
