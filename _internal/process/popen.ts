/**
 * The backend interface: one running child, however it was started. The
 * subprocess and worker implementations sit beside this file; everything
 * above is written once against {@link Popen}.
 *
 * @module
 */

import { type Channel, CLOSED } from "../transport/channel.ts";
import { ProcessError } from "../base/errors.ts";
import type { Permissions } from "./permissions.ts";
import type { TaskSpec } from "./task_spec.ts";
import { type ErrorData, errorFromData } from "../wire/error_data.ts";

/** One started child. */
export interface Popen {
  /** The OS process id it runs in (the parent's, for a worker). */
  readonly pid: number;
  /** Unique among processes and workers. */
  readonly ident: string;
  /** Its exit code once it has exited, else null. */
  readonly exitCode: number | null;
  /** Resolves with the exit code once it has exited and its pipes are drained. */
  readonly exited: Promise<number>;
  /** SIGTERM, or a worker's termination (exit code -15). */
  terminate(): void;
  /** SIGKILL, or a worker's termination (exit code -9). */
  kill(): void;
  /**
   * Whether waiting on this child keeps the process alive. A daemonic
   * subprocess is unref'd, and ref'd only while someone joins it.
   */
  setRef(ref: boolean): void;
  /** The child's one report over its launch channel, when its task asked for one. */
  report?(): Promise<unknown>;
}

/** What a backend needs to start a child. */
export interface LaunchOptions {
  /** What the child runs. */
  spec: TaskSpec;
  /** Its permissions (subprocess; a worker takes Deno's worker permissions). */
  permissions: Permissions;
  /** Extra `deno run` flags. */
  runtimeArgs: string[];
  /** Objects among the arguments moved to a worker child, not copied (`TRANSFER`). */
  transfer?: Transferable[];
}

/** How long an exited child's connections may take to be read to their end. */
export const PEERS_CLOSE_MS = 2000;

/**
 * The start handshake, the same for every backend: send the task, then wait
 * for the child to say it imported the target and is running it.
 */
export async function sendTask(
  channel: Channel,
  spec: TaskSpec,
  describeExit: () => string | Promise<string>,
  transfer?: Transferable[],
): Promise<void> {
  await channel.send({ op: "task", spec }, transfer);
  const reply = await channel.recv();
  if (reply === CLOSED) {
    throw new ProcessError(
      `Cannot start process '${spec.name}': ${await describeExit()}`,
    );
  }
  const msg = reply as { op: string; error?: ErrorData };
  if (msg.op === "failed") throw errorFromData(msg.error!);
  if (msg.op !== "started") {
    throw new ProcessError(
      `Cannot start process '${spec.name}': unexpected reply '${msg.op}'`,
    );
  }
}
