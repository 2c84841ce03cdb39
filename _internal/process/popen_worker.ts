/**
 * The worker backend: a thread entered through the child entry, talking
 * over its message port (a `node:worker_threads` Worker, or a Web Worker
 * where permissions are narrowed: see `threads.ts`). Exit codes follow
 * Python's: the child's own (0, 1, or `n` from `Deno.exit(n)`), 1 for an
 * uncaught error, and -15/-9 after terminate/kill.
 *
 * @module
 */

import { LINKED_ENTRY_URL } from "./child_linked.ts";
import { CLOSED, PortChannel, SKIP } from "../transport/channel.ts";
import { acceptPort, isPortRequest, routesForChild } from "../hub/ports.ts";
import { nodeThread, type Thread, webThread } from "./threads.ts";
import { ProcessError } from "../base/errors.ts";
import { closePortPeers, dropPeers, peersClosed, registerLocalWorker } from "../hub/server.ts";
import { recoverOwner } from "../primitives/lock_core.ts";
import { ownerOf } from "../primitives/sync_wait.ts";
import { type LaunchOptions, PEERS_CLOSE_MS, type Popen, sendTask } from "./popen.ts";
import { withAwakeTimeout } from "../base/async.ts";
import { findConfig, grantedHosts, moduleReadPaths, socketsNeeds } from "./launch.ts";
import { acquireHub, hubKey, hubNeeds } from "../hub/hub.ts";
import { type Need, requirePermissions } from "../base/permits.ts";
import { registerSandbox } from "../hub/sandbox.ts";
import { keyForId } from "../transport/keys.ts";
import type { Address } from "../transport/address.ts";
import { PERMISSION_KINDS, type Permissions } from "./permissions.ts";
import { state } from "../base/state.ts";
import type { Preload } from "./task_spec.ts";

/** A running worker child. */
export class WorkerPopen implements Popen {
  readonly pid: number = Deno.pid;
  ident: string;
  exitCode: number | null = null;
  readonly exited: Promise<number>;
  readonly port: PortChannel;
  #thread: Thread;
  #resolve!: (code: number | Promise<number>) => void;
  #lastError = "";
  #unregister: () => void;
  #name: string;

  /**
   * @param trusted The thread runs with this process's permissions: it may
   * reach this process's hub (and its ancestors') over ports (`hub/ports.ts`).
   */
  constructor(thread: Thread, name: string, identity: number[], trusted: boolean) {
    this.#thread = thread;
    this.#name = name;
    this.ident = `${Deno.pid}/${identity.join(":")}`;
    // A request for a port to a hub is answered at once, never queued for a reader.
    this.port = new PortChannel(thread.port, (data) => {
      if (!isPortRequest(data)) return data;
      if (trusted) acceptPort(data);
      return SKIP;
    });
    this.#unregister = registerLocalWorker(this.ident, thread.port);
    this.exited = new Promise((resolve) => (this.#resolve = resolve));
    thread.onExit((code, error) => {
      if (error && this.exitCode === null) {
        this.#lastError = error;
        console.error(`Process ${this.#name}: ${error}`);
      }
      this.#finish(code);
    });
  }

  #finish(code: number): void {
    if (this.exitCode !== null) return;
    this.exitCode = code;
    this.#unregister();
    this.#thread.stop();
    // Killed: its sockets can outlive it a while; let go of them now. After
    // a normal exit they close on their own, once what it sent is read.
    if (code === -9 || code === -15) dropPeers(this.ident);
    else closePortPeers(this.ident);
    // Locks it held in shared memory would otherwise stay held forever.
    recoverOwner(ownerOf(this.ident));
    this.port.end();
    this.#resolve(peersClosed(this.ident, PEERS_CLOSE_MS).then(() => code));
  }

  /** The child's one report (see `READ_REPORT`): the next report on its port. */
  async report(): Promise<unknown> {
    while (true) {
      const m = await this.port.recv() as { op?: string; value?: unknown } | typeof CLOSED;
      if (m === CLOSED) throw new ProcessError(`Cannot read a report: ${this.describeExit()}`);
      if (m.op === "report") return m.value;
    }
  }

  /** A spare gets its name and place in the tree with its task. */
  rename(name: string, identity: number[]): void {
    const ident = `${Deno.pid}/${identity.join(":")}`;
    if (ident === this.ident) return;
    this.#name = name;
    this.#unregister();
    this.ident = ident;
    this.#unregister = registerLocalWorker(ident, this.#thread.port);
  }

  describeExit(): string {
    return `the worker exited with code ${this.exitCode ?? "(none)"} before it started its target` +
      (this.#lastError ? `: ${this.#lastError}` : "");
  }

  setRef(ref: boolean): void {
    this.#thread.setRef(ref);
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
 * modules it must import (the target's module is a dynamic import) and what
 * its parent's socket needs (where its sandbox's grants lead: `hub/grants.ts`).
 */
function workerPermissions(
  p: Exclude<Permissions, "inherit">,
  module: string,
  hosts: Address[],
): Deno.PermissionOptions {
  const out: Record<string, unknown> = {};
  const needs = socketsNeeds(hosts);
  needs.read.push(...moduleReadPaths(module));
  for (const kind of PERMISSION_KINDS) {
    const v = p === "none" ? false : p[kind] ?? false;
    out[kind] = Array.isArray(v) ? v.map((x) => x instanceof URL ? x.pathname : x) : v;
    if (kind !== "read" && kind !== "write" && kind !== "net") continue;
    if (out[kind] !== true && out[kind] !== "inherit") {
      out[kind] = [...(Array.isArray(out[kind]) ? out[kind] as string[] : []), ...needs[kind]];
    }
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

/** What a thread needs before it has a task: its name, permissions and module (for reads). */
export interface ThreadOptions {
  name: string;
  permissions: LaunchOptions["permissions"];
  module?: string;
  /** Hosts a sandboxed child was given handles of: their sockets are in its permissions. */
  hosts?: Address[];
}

/**
 * The thread a child runs on: a `node:worker_threads` Worker, or a Web
 * Worker where its permissions are narrowed (see `threads.ts`).
 */
async function threadFor(opts: ThreadOptions): Promise<Thread> {
  if (opts.permissions === "inherit") return await nodeThread(LINKED_ENTRY_URL, opts.name);
  if (workerOptionsEnabled() === false) {
    throw new ProcessError(
      `Cannot start process '${opts.name}': narrowing a worker child's permissions needs ` +
        `Deno's --unstable-worker-options flag (or "unstable": ["worker-options"] in deno.json)`,
    );
  }
  // The hub is held while the thread lives: its socket is what the permissions name.
  const hub = await acquireHub();
  const hosts = [hub.address, ...opts.hosts ?? []];
  const permissions = workerPermissions(opts.permissions, opts.module ?? "", hosts);
  try {
    const thread = webThread(LINKED_ENTRY_URL, {
      type: "module",
      name: opts.name,
      deno: { permissions },
    } as WorkerOptions);
    thread.onExit(() => hub.release());
    return thread;
  } catch (err) {
    hub.release();
    throw new ProcessError(
      `Cannot start process '${opts.name}': ${(err as Error).message} ` +
        "(worker permissions need the --unstable-worker-options flag)",
      { cause: err },
    );
  }
}

/**
 * A thread started with the child entry and loaded (it says `up`), waiting
 * for its task: a warm spare, or a start about to hand it one.
 */
export async function spawnThread(opts: ThreadOptions, identity: number[]): Promise<WorkerPopen> {
  const popen = new WorkerPopen(
    await threadFor(opts),
    opts.name,
    identity,
    opts.permissions === "inherit",
  );
  const up = await withAwakeTimeout(
    popen.port.recv(),
    state().startTimeoutMs,
    () =>
      `Cannot start process '${opts.name}': the worker did not load within ${state().startTimeoutMs} ms`,
  ).catch((err) => {
    popen.kill();
    throw err;
  });
  if ((up as { op?: string })?.op !== "up") {
    popen.kill();
    throw new ProcessError(`Cannot start process '${opts.name}': ${popen.describeExit()}`);
  }
  return popen;
}

/**
 * Has a spare thread rehearse its first task's path (see `child_linked.ts`), so
 * that its task does not run that code for the first time, and import the
 * modules in `preload`; kills it and rejects if it does not answer.
 */
export async function rehearseThread(popen: WorkerPopen, preload?: Preload): Promise<void> {
  await popen.port.send({ op: "warm", ...(preload ? { preload } : {}) });
  const reply = await withAwakeTimeout(
    popen.port.recv(),
    state().startTimeoutMs,
    () => `Cannot start a spare: the worker did not rehearse within ${state().startTimeoutMs} ms`,
  ).catch((err) => {
    popen.kill();
    throw err;
  });
  if ((reply as { op?: string })?.op !== "warmed") {
    popen.kill();
    throw new ProcessError(`Cannot start a spare: ${popen.describeExit()}`);
  }
}

/** Gives a thread its task; resolves once it runs its target. */
export async function handOverThread(
  popen: WorkerPopen,
  opts: LaunchOptions,
  daemon: boolean,
): Promise<Popen> {
  const { spec } = opts;
  popen.rename(spec.name, spec.identity);
  popen.setRef(true); // A spare was unref'd: while it starts, it holds the program.
  // A sandboxed child gets a key derived for it alone, and stands for itself only.
  const kid = spec.kid;
  const authkey = kid ? keyForId(hubKey(), kid)! : state().authkey;
  if (kid) popen.exited.finally(registerSandbox(kid, popen.ident));
  try {
    // A child with this process's permissions reaches hubs with no socket over ports.
    const portHosts = kid ? undefined : routesForChild();
    const task = { ...spec, authkey, ...(portHosts ? { portHosts } : {}) };
    const started = sendTask(popen.port, task, () => popen.describeExit(), opts.transfer);
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
  // Only now: while it starts, it is what keeps this process waiting.
  popen.setRef(!daemon);
  return popen;
}

/**
 * What starting a worker child needs from Deno, asked at once: reading the
 * library's child entry and the target's module (a worker imports them),
 * and, for one with narrowed permissions given handles, the hub's socket
 * (one with this process's permissions reaches a hub that may not listen
 * over ports: `hub/ports.ts`).
 *
 * @throws {Deno.errors.NotCapable} Naming every missing flag.
 */
export function checkThread(name: string, module: string, socket: boolean): void {
  const reads = [LINKED_ENTRY_URL, module].filter((u) => u.startsWith("file:"));
  requirePermissions(`start process '${name}'`, [
    ...reads.map((u): Need => ({
      flag: "--allow-read",
      descriptor: { name: "read", path: decodeURIComponent(new URL(u).pathname) },
      why: `to load ${
        u === LINKED_ENTRY_URL ? "the library's child entry" : "the target's module"
      } in the worker`,
    })),
    ...(socket ? hubNeeds() : []),
  ]);
}

/** Starts a worker child; resolves once it runs its target. */
export async function launchWorker(opts: LaunchOptions, daemon: boolean): Promise<Popen> {
  const { spec } = opts;
  const popen = await spawnThread(
    {
      name: spec.name,
      permissions: opts.permissions,
      module: spec.module,
      hosts: grantedHosts(spec),
    },
    spec.identity,
  );
  return await handOverThread(popen, opts, daemon);
}
