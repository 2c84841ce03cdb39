/**
 * The subprocess backend: `deno run <child entry> <ticket>` through
 * `Deno.Command` (or, in a compiled binary, the binary itself with the
 * marker). The authkey goes down stdin, never on the command line; the
 * child connects back to the hub with its ticket and proves the key.
 *
 * stdin stays open and unwritten afterwards: EOF on it tells the child that
 * its parent is gone, whatever killed the parent. stderr is piped and
 * forwarded, keeping a tail for the error of a child that never connects.
 *
 * @module
 */

import { type Channel, CLOSED } from "../transport/channel.ts";
import { encodeLaunchKey, type LaunchTask } from "./launch_key.ts";
import { keyForId } from "../transport/keys.ts";
import { registerSandbox } from "../hub/sandbox.ts";
import { CHILD_ENTRY_URL } from "./child.ts";
import { LINKED_ENTRY_URL } from "./child_linked.ts";
import { CHILD_MARKER, encodeTicket } from "./ticket.ts";
import { ProcessError } from "../base/errors.ts";
import { acquireHub, hubKey, hubNeeds } from "../hub/hub.ts";
import { requirePermissions } from "../base/permits.ts";
import { peersClosed } from "../hub/server.ts";
import { type LaunchOptions, PEERS_CLOSE_MS, type Popen, sendTask } from "./popen.ts";
import { signalExitCode } from "./exit_codes.ts";
import { ensureReaper } from "./reaper.ts";
import { withAwakeTimeout, withTimeout } from "../base/async.ts";
import { expectChild } from "./expect.ts";
import {
  grantedHosts,
  moduleReadPaths,
  resolutionFlags,
  socketsNeeds,
  withImportMapHint,
} from "./launch.ts";
import { permissionFlags, sandboxFlags } from "./permissions.ts";
import { standaloneLauncher, state } from "../base/state.ts";
import { type Address, addressToString } from "../transport/address.ts";
import { decodeAsync, encode } from "../wire/codec.ts";
import { checkMessageSize } from "../wire/limits.ts";
import { type ErrorData, errorFromData } from "../wire/error_data.ts";
import { newStartNonce, type StartReport, StartScanner } from "./start_report.ts";

const STDERR_TAIL = 2048;

/** A running subprocess child. */
export class SubprocessPopen implements Popen {
  readonly pid: number;
  readonly ident: string;
  exitCode: number | null = null;
  readonly exited: Promise<number>;
  #child: Deno.ChildProcess;
  #stdin: WritableStreamDefaultWriter<Uint8Array>;
  #tail = "";

  /** Reads a cold-started child's start report out of its stderr. */
  #scanner: StartScanner | undefined;

  /** `startNonce`: a cold start's, whose report its stderr carries. */
  constructor(child: Deno.ChildProcess, startNonce?: string) {
    this.#child = child;
    this.pid = child.pid;
    this.ident = String(child.pid);
    this.#stdin = child.stdin.getWriter();
    if (startNonce) this.#scanner = new StartScanner(startNonce);
    const drained = this.#forwardStderr(child.stderr);
    this.exited = Promise.all([child.status, drained]).then(async ([status]) => {
      const code = status.signal ? signalExitCode(status.signal) : status.code;
      this.exitCode = code;
      this.#stdin.close().catch(() => {});
      // What it sent before it died is read before join() returns.
      await peersClosed(this.ident, PEERS_CLOSE_MS);
      return code;
    });
  }

  /**
   * Sends the child's key and its id, and for a cold start its task: the
   * only bytes the parent ever writes to stdin.
   */
  async sendAuthkey(authkey: Uint8Array, kid: string, task?: LaunchTask): Promise<void> {
    await this.#stdin.write(encodeLaunchKey(authkey, kid, task));
  }

  /** A cold-started child's start report, read from its stderr. */
  get startReport(): Promise<StartReport> {
    if (!this.#scanner) throw new ProcessError("This child was not started cold");
    return this.#scanner.report;
  }

  /** The launch channel, kept open for the child's report (see `READ_REPORT`). */
  #reportChannel: Channel | undefined;

  /** Keeps the launch channel open: the child's one report comes over it. */
  keepForReport(channel: Channel): void {
    this.#reportChannel = channel;
    channel.unref();
    this.exited.finally(() => channel.close());
  }

  /** The child's report (see `READ_REPORT`): the next message of its launch channel. */
  async report(): Promise<unknown> {
    const ch = this.#reportChannel;
    if (!ch) throw new ProcessError("Cannot read a report: the child has no report channel");
    const m = await ch.recv() as { op?: string; value?: unknown } | typeof CLOSED;
    ch.close();
    if (m === CLOSED || m.op !== "report") {
      throw new ProcessError(`Cannot read a report: ${this.describeExit()}`);
    }
    return m.value;
  }

  async #forwardStderr(stream: ReadableStream<Uint8Array>): Promise<void> {
    const decoder = new TextDecoder();
    const forward = (chunk: Uint8Array) => {
      if (chunk.length === 0) return;
      Deno.stderr.writeSync(chunk);
      this.#tail = (this.#tail + decoder.decode(chunk, { stream: true }))
        .slice(-STDERR_TAIL);
    };
    try {
      for await (const chunk of stream) forward(this.#scanner ? this.#scanner.scan(chunk) : chunk);
    } catch {
      // The pipe broke with the child: nothing more to forward.
    }
    if (this.#scanner) forward(this.#scanner.end());
  }

  /** Why the child is gone, for an error message. */
  describeExit(): string {
    const code = this.exitCode === null ? "is still running" : `exited with code ${this.exitCode}`;
    const tail = this.#tail.trim();
    return `the child (pid ${this.pid}) ${code} before it started its target` +
      (tail ? `; its stderr ended with:\n${tail}` : "");
  }

  setRef(ref: boolean): void {
    if (ref) this.#child.ref();
    else this.#child.unref();
  }

  #signal(signal: Deno.Signal): void {
    if (this.exitCode !== null) return;
    try {
      this.#child.kill(signal);
    } catch {
      // It exited between the check and the signal.
    }
  }

  terminate(): void {
    this.#signal("SIGTERM");
  }

  kill(): void {
    this.#signal("SIGKILL");
  }
}

/**
 * Where a child finds its task: at the hub's address, which it connects
 * back to and presents a one-time ticket, or (cold) on its stdin.
 */
type TaskFrom = { address: Address; ticket: string } | { stdin: true };

/** The command that starts a child that takes its task from `from`. */
function commandFor(from: TaskFrom, opts: SpawnOptions): [string, string[]] {
  // Arguments stay off the command line; the rest lets the child start
  // importing its target while it connects back. A spare has no task yet.
  // Nor are keys: a command line is visible to every process of the machine.
  const boot = opts.spec && "ticket" in from
    ? { ...opts.spec, args: [], fields: {}, handles: undefined, access: undefined }
    : undefined;
  const arg = encodeTicket(
    "ticket" in from
      ? {
        ppid: Deno.pid,
        address: addressToString(from.address),
        ticket: from.ticket,
        ...(boot ? { boot } : {}),
      }
      : { ppid: Deno.pid, stdin: true },
  );
  const launcher = standaloneLauncher();
  if (launcher) return [launcher[0], [...launcher.slice(1), CHILD_MARKER, arg]];
  // Its parent's socket if it connects back, and those of the hosts of
  // what it was given.
  const needs = socketsNeeds([
    ...("address" in from ? [from.address] : []),
    ...grantedHosts(opts.spec),
  ]);
  if (opts.spec) needs.read.push(...moduleReadPaths(opts.spec.module));
  // A cold task without handles starts at the entry that loads least.
  const linked = "ticket" in from || opts.spec?.handles !== undefined ||
    opts.spec?.access !== undefined;
  return [Deno.execPath(), [
    "run",
    ...resolutionFlags(opts.runtimeArgs),
    ...permissionFlags(opts.permissions, needs),
    ...sandboxFlags(opts.permissions, opts.runtimeArgs),
    linked ? LINKED_ENTRY_URL : CHILD_ENTRY_URL,
    arg,
  ]];
}

/** What a spawn needs: a launch's options, with the task absent for a spare. */
type SpawnOptions = Omit<LaunchOptions, "spec"> & { spec?: LaunchOptions["spec"]; name: string };

/** Spawns a child (see {@link commandFor}): stdin and stderr piped, stdout shared. */
function spawnChild(from: TaskFrom, opts: SpawnOptions, startNonce?: string): SubprocessPopen {
  const [cmd, args] = commandFor(from, opts);
  const child = new Deno.Command(cmd, {
    args,
    stdin: "piped",
    stdout: "inherit",
    stderr: "piped",
  }).spawn();
  return new SubprocessPopen(child, startNonce);
}

/** A subprocess child connected back and proven, waiting for its task. */
export interface Connected {
  popen: SubprocessPopen;
  channel: Channel;
}

/**
 * Spawns a child and waits until it has connected back and proven the
 * authkey: a warm spare stops there; a cold start goes on to its task.
 */
export async function spawnConnected(opts: SpawnOptions): Promise<Connected> {
  checkSpawn(opts.name);
  const hub = await acquireHub();
  // A sandboxed child proves a key derived for it alone, never the tree's.
  const kid = opts.spec?.kid ?? "";
  const expected = expectChild(kid);
  let popen: SubprocessPopen | undefined;
  try {
    popen = spawnChild({ address: hub.address, ticket: expected.ticket }, opts);
    await popen.sendAuthkey(kid ? keyForId(hubKey(), kid)! : state().authkey, kid);
    const p = popen;
    const exitedEarly = p.exited.then(() => {
      throw new ProcessError(`Cannot start process '${opts.name}': ${p.describeExit()}`);
    });
    const channel: Channel = await withAwakeTimeout(
      Promise.race([expected.connected, exitedEarly]),
      state().startTimeoutMs,
      () =>
        `Cannot start process '${opts.name}': the child did not connect back within ${state().startTimeoutMs} ms; ${p.describeExit()}`,
    );
    exitedEarly.catch(() => {});
    return { popen, channel };
  } catch (err) {
    expected.cancel();
    throw await abandon(popen, err, opts.runtimeArgs);
  } finally {
    hub.release();
  }
}

/**
 * A child whose start failed: kills it and waits until it is gone, then
 * returns the error to throw (with the import-map hint where it applies).
 */
async function abandon(
  popen: SubprocessPopen | undefined,
  err: unknown,
  runtimeArgs: string[],
): Promise<unknown> {
  if (popen) {
    popen.kill();
    await popen.exited;
  }
  return withImportMapHint(err, runtimeArgs);
}

/** Gives a connected child its task; resolves once it runs its target. */
export async function handOver(c: Connected, opts: LaunchOptions, daemon: boolean): Promise<Popen> {
  const { popen, channel } = c;
  // A spare was unref'd: while it starts, it holds the program.
  popen.setRef(true);
  channel.ref();
  // A sandboxed child's connections stand for it (its ident), and for no one else.
  const kid = opts.spec.kid;
  if (kid) popen.exited.finally(registerSandbox(kid, popen.ident));
  let keep = false;
  try {
    await sendTask(channel, opts.spec, async () => {
      await withTimeout(popen.exited, 2000, () => "").catch(() => {});
      return popen.describeExit();
    });
    keep = opts.spec.report === true;
  } catch (err) {
    throw await abandon(popen, err, opts.runtimeArgs);
  } finally {
    if (keep) popen.keepForReport(channel);
    else channel.close();
  }
  // Only now: while it starts, its exit is what keeps this process waiting.
  popen.setRef(!daemon);
  return popen;
}

/**
 * Everything starting a child needs, asked of Deno at once (its hub, and
 * running Deno's executable), so that a program short of several
 * permissions hears of them all in one error.
 *
 * @throws {Deno.errors.NotCapable} Naming every missing flag.
 */
export function checkSpawn(name: string): void {
  const executable = standaloneLauncher()?.[0] ?? Deno.execPath();
  requirePermissions(`start process '${name}'`, [...hubNeeds(), {
    flag: "--allow-run",
    descriptor: { name: "run", command: executable },
    why: `to start Deno's executable (${executable}) for the child`,
  }]);
}

/**
 * Starts a subprocess child; resolves once it runs its target. It starts
 * cold (task on stdin, start reported on stderr: see {@link startCold})
 * unless it reports a value over its launch channel, or runs as a compiled
 * binary's child, which connect back for their task.
 */
export async function launchSubprocess(
  opts: LaunchOptions,
  daemon: boolean,
): Promise<Popen> {
  checkSpawn(opts.spec.name);
  // An argument that cannot be cloned, or too much of them, fails here,
  // before anything is spawned.
  const payload = await encode(opts.spec);
  checkMessageSize(payload.length);
  // The first child starts this process's reaper, side by side with itself.
  const reaper = ensureReaper();
  try {
    if (opts.spec.report || standaloneLauncher()) {
      const connected = await spawnConnected({ ...opts, name: opts.spec.name });
      return await handOver(connected, opts, daemon);
    }
    return await startCold(opts, payload, daemon);
  } finally {
    await reaper;
  }
}

/**
 * A cold child's failure report, decoded as its launch channel's message
 * would be (bounded depth, any cloneable value).
 *
 * @throws {ProcessError} When it is not error data.
 */
export async function failureData(failure: Uint8Array): Promise<ErrorData> {
  let data: unknown;
  try {
    data = await decodeAsync(failure);
  } catch (err) {
    throw new ProcessError("Cannot start process: its child's failure report was malformed", {
      cause: err,
    });
  }
  const d = data as Partial<ErrorData> | null;
  if (
    typeof d !== "object" || d === null || typeof d.name !== "string" ||
    typeof d.message !== "string"
  ) {
    throw new ProcessError("Cannot start process: its child's failure report was malformed");
  }
  return data as ErrorData;
}

/**
 * Starts a child cold: its key and its encoded task go down its stdin,
 * which only this process writes, and the child reports on its stderr that
 * it runs its target, or why it cannot (`start_report.ts`). No connection
 * back, no handshake and no round trip for the task are on the way to its
 * target: they took 3-4 ms of a cold start of about 25 (timestamps in the
 * child, design §3).
 */
async function startCold(
  opts: LaunchOptions,
  payload: Uint8Array,
  daemon: boolean,
): Promise<Popen> {
  const name = opts.spec.name;
  // A sandboxed child holds a key derived for it alone, never the tree's.
  const kid = opts.spec.kid ?? "";
  const nonce = newStartNonce();
  let popen: SubprocessPopen | undefined;
  try {
    // No hub: the child connects back to nothing (0.4 ms of a start went
    // to opening one and closing it again).
    popen = spawnChild({ stdin: true }, { ...opts, name }, nonce);
    // A sandboxed child's connections stand for it (its ident), and for no one else.
    if (kid) popen.exited.finally(registerSandbox(kid, popen.ident));
    const key = kid ? keyForId(hubKey(), kid)! : state().authkey;
    // A child gone before it read them says so by its exit, below.
    popen.sendAuthkey(key, kid, { nonce, payload }).catch(() => {});
    const p = popen;
    const report = await withAwakeTimeout(
      p.startReport,
      state().startTimeoutMs,
      () =>
        `Cannot start process '${name}': the child did not start its target within ${state().startTimeoutMs} ms; ${p.describeExit()}`,
    );
    if (!report.started) {
      if (report.failure) throw errorFromData(await failureData(report.failure));
      await withTimeout(p.exited, 2000, () => "").catch(() => {});
      throw new ProcessError(
        `Cannot start process '${name}': ${
          report.malformed ? "its start report was malformed; " : ""
        }${p.describeExit()}`,
      );
    }
  } catch (err) {
    throw await abandon(popen, err, opts.runtimeArgs);
  }
  // Only now: while it starts, its exit is what keeps this process waiting.
  popen.setRef(!daemon);
  return popen;
}
