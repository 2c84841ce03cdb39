/**
 * Starting a manager process: a daemonic `deno run` child running
 * `managerMain`, which reports its address and registry over its launch
 * channel (only its owner reads it: never through a queue anyone holding a
 * key could put to).
 *
 * @module
 */

import { ProcessError } from "../_internal/base/errors.ts";
import type { TypeSpec } from "../_internal/manager/server.ts";
import type { Address } from "../_internal/transport/address.ts";
import { raceTimer } from "../_internal/base/async.ts";
import { READ_REPORT } from "../_internal/base/symbols.ts";
import { sessionId } from "../_internal/hub/host_keys.ts";
import { Process, type ProcessOptions } from "../process.ts";
import { type ManagerInfo, managerMain } from "./_main.ts";

const SERVER_MODULE = new URL("./_main.ts", import.meta.url).href;

/** What the manager process is started with. */
export interface StartOptions {
  /** Where it listens (TCP), or its own Unix socket when absent. */
  address: Address | undefined;
  /** Its own key, when not this process tree's. */
  authkey: Uint8Array | undefined;
  /** The registered types, without their functions. */
  types: Omit<TypeSpec, "fn">[];
  /** Extra `deno run` flags. */
  runtimeArgs: string[] | undefined;
  /**
   * The directory its Unix socket goes in, made by the caller (who alone
   * removes it: never a path another process names).
   */
  socketDir: string | undefined;
}

/** A started manager process, where it serves, and its registry's id. */
export interface Started {
  process: Process;
  address: Address;
  registry: string;
}

/**
 * Starts the manager process and resolves once it serves.
 *
 * @throws {ProcessError} When it exits first, reports an error, or does not
 * report within 60 s.
 */
export async function startManagerProcess(o: StartOptions): Promise<Started> {
  const p = new Process({
    target: managerMain,
    args: [{
      address: o.address,
      authkey: o.authkey,
      types: o.types,
      socketDir: o.socketDir,
      // Only this process's session may shut it down.
      owner: sessionId(),
    }],
    module: SERVER_MODULE,
    name: "SyncManager",
    startMethod: "subprocess",
    daemon: true,
    runtimeArgs: o.runtimeArgs,
    // Its address comes back over its launch channel, which only this process reads.
    [READ_REPORT]: true,
  } as ProcessOptions);
  try {
    await p.start();
    const info = await reportOf(p);
    return { process: p, address: info.address, registry: info.registry };
  } catch (err) {
    if (p.isAlive()) p.kill();
    if (p.pid !== undefined) await p.join();
    throw err;
  }
}

/** Where a started manager process serves, as it reports over its launch channel. */
async function reportOf(p: Process): Promise<ManagerInfo> {
  // A ref'd timer: nothing else keeps this process alive while it waits
  // (the manager is a daemonic child, the hub's listener is unref'd).
  const exited = p.sentinel.then((code): never => {
    throw new ProcessError(
      `Cannot start manager: its process exited with code ${code} before it served`,
    );
  });
  const info = await raceTimer(Promise.race([p[READ_REPORT](), exited]), 60_000, () => {
    throw new ProcessError("Cannot start manager: it did not report within 60 s");
  }) as ManagerInfo | { error: string };
  if ("error" in info) throw new ProcessError(`Cannot start manager: ${info.error}`);
  return info;
}
