/**
 * The task a child receives: what to run (module, export, fingerprint,
 * arguments) and who it is (name, identity, parent, daemon flag, inherited
 * context).
 *
 * @module
 */

import type { ParentInfo, StartMethod, TransportKind } from "../base/state.ts";
import type { Path } from "../hub/paths.ts";
import type { Access } from "../hub/grants.ts";
import type { LaunchKey } from "../hub/host_keys.ts";
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
  /** Where handles are in `args` and `fields` (packed into descriptors), when there are any. */
  handles?: { args?: Path[]; fields?: Path[] };
  /**
   * For the hosts of those handles: the keys of those with keys of their
   * own, or, for a sandboxed child, its key and grants there (never on a
   * command line).
   */
  access?: (LaunchKey | Access)[];
  /** The id of a sandboxed child's key (`"c:…"`; its key comes with it, never in a ticket). */
  kid?: string;
  /** The child may send its parent one report over its launch channel (`READ_REPORT`). */
  report?: true;
  /**
   * Hosts a worker child reaches over message ports through its parent
   * (`hub/ports.ts`): hubs of ancestors that may not listen.
   */
  portHosts?: string[];
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
  /**
   * The worker child's key, sent only over its port: the tree's, or for a
   * sandboxed child one derived for it ({@link TaskSpec.kid}). A socket
   * child proved it holds its key already.
   */
  authkey?: Uint8Array;
}

/** What every child of one parent is told alike: its context, less who it is and what it runs. */
export type Family = Pick<
  TaskSpec,
  "parent" | "mainModule" | "argv" | "runtimeArgs" | "transport" | "startMethod"
>;

/** The {@link Family} part of a task. */
export function familyOf(spec: TaskSpec): Family {
  const { parent, mainModule, argv, runtimeArgs, transport, startMethod } = spec;
  return { parent, mainModule, argv, runtimeArgs, transport, startMethod };
}

/**
 * What a warm spare imports while it waits for its task: the modules of
 * the last targets started on spares, in its parent's context.
 */
export interface Preload {
  /** Target modules, imported as a child imports its target's. */
  modules: string[];
  /** The library's modules that revive the handles those tasks were given. */
  library: string[];
  family: Family;
}
