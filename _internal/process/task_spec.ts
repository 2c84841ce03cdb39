/**
 * The task a child receives: what to run (module, export, fingerprint,
 * arguments) and who it is (name, identity, parent, daemon flag, inherited
 * context).
 *
 * @module
 */

import type { ParentInfo, StartMethod, TransportKind } from "../base/state.ts";
import type { LogLevel } from "../base/log.ts";

/** What a child is told to run. */
export interface TaskSpec {
  /** URL of the module exporting the target. */
  module: string;
  /** The export's expected name (the function's or class's `name`). */
  exportName: string;
  /** Hash of the target's source. */
  fingerprint: string;
  /** A function to call, a Process subclass to instantiate and `run()`, or nothing. */
  kind: "function" | "class" | "none";
  /** Arguments for a function target. */
  args: unknown[];
  /** Own enumerable fields of a Process subclass instance. */
  fields: Record<string, unknown>;
  /** The child's process name. */
  name: string;
  /** The child's identity (its place in the tree). */
  identity: number[];
  /** Whether the child is daemonic. */
  daemon: boolean;
  /** The parent, as the child will see it. */
  parent: ParentInfo;
  /** The root's main module: the default module for the child's own children. */
  mainModule?: string;
  /** The parent's `Deno.args`, which the child sees as its own (absent: none). */
  argv?: string[];
  /** The level the child logs to stderr at (absent: it does not). */
  log?: LogLevel;
  /** Context-wide flags for the child's own children. */
  runtimeArgs: string[];
  /** The child's hub transport. */
  transport: TransportKind;
  /** The context-wide start method, carried into the child. */
  startMethod?: StartMethod;
  /** The tree's authkey; sent only over a worker's port (a socket child proved it has it). */
  authkey?: Uint8Array;
}
