/**
 * Starting a manager process: a daemonic `deno run` child running
 * `managerMain`, which reports its address and registry on a queue.
 *
 * @module
 */

import { ProcessError } from "../_internal/base/errors.ts";
import type { TypeSpec } from "../_internal/manager/server.ts";
import type { Address } from "../_internal/transport/address.ts";
import { raceTimer } from "../_internal/base/async.ts";
import { Process } from "../process.ts";
import { Queue } from "../queue.ts";
import { managerMain } from "./_main.ts";

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
  const reply = new Queue<{ address: Address; registry: string } | { error: string }>();
  const p = new Process({
    target: managerMain,
    args: [reply, { address: o.address, authkey: o.authkey, types: o.types }],
    module: SERVER_MODULE,
    name: "SyncManager",
    startMethod: "subprocess",
    daemon: true,
    runtimeArgs: o.runtimeArgs,
  });
  try {
    await p.start();
    // A ref'd timer: nothing else keeps this process alive while it waits
    // (the manager is a daemonic child, the hub's listener is unref'd).
    const exited = p.sentinel.then((code): never => {
      throw new ProcessError(
        `Cannot start manager: its process exited with code ${code} before it served`,
      );
    });
    const info = await raceTimer(Promise.race([reply.get(), exited]), 60_000, () => {
      throw new ProcessError("Cannot start manager: it did not report within 60 s");
    });
    if ("error" in info) throw new ProcessError(`Cannot start manager: ${info.error}`);
    return { process: p, address: info.address, registry: info.registry };
  } catch (err) {
    if (p.isAlive()) p.kill();
    throw err;
  } finally {
    await reply[Symbol.asyncDispose]();
  }
}
