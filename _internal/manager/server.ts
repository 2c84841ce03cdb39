/**
 * The manager server: a registry of object types, served from this
 * process's hub (where and with the key the manager was given), in a
 * manager process started by `BaseManager.start()` or in the current
 * process (`serveForever`).
 *
 * @module
 */

import { delay } from "../base/async.ts";
import { findTarget } from "../process/target.ts";
import type { Travelling } from "../hub/handles.ts";
import { reviveMarked } from "../hub/marks.ts";
import { TO_DESCRIPTOR } from "../base/symbols.ts";
import { configureHub, hubAddress, onHubMessage } from "../hub/hub.ts";
import { ProcessError } from "../base/errors.ts";
import { CustomCore } from "./custom_core.ts";
import { type Factory, RegistryCore } from "./registry.ts";
import { LocalRef } from "../hub/refs.ts";
import { dropAllPeers } from "../hub/server.ts";
import { type Address, addressToString } from "../transport/address.ts";

/** A registered type as the manager process finds it: by module and export. */
export interface TypeSpec {
  /** The type's name. */
  typeid: string;
  /** URL of the module exporting the factory. */
  module: string;
  /** The factory's export name. */
  exportName: string;
  /** The factory's source fingerprint. */
  fingerprint: string;
  /** The methods its objects expose (default: their public methods). */
  methods?: string[];
  /** The factory itself, when serving in the process that registered it. */
  fn?: (...args: never[]) => unknown;
}

/** How a manager serves. */
export interface ServeOptions {
  /** The key clients must prove; default: this process tree's. */
  authkey?: Uint8Array;
  /** Where to listen; default: a private Unix socket (TCP loopback on Windows). */
  address?: Address;
  /** Registered types. */
  types?: TypeSpec[];
  /**
   * The directory of the Unix socket, made by the manager's owner (it
   * removes what it made: never a path the manager reports).
   */
  socketDir?: string;
  /** The session of the process that started the manager: only it may shut it down. */
  owner?: string;
}

/** What the manager makes besides registered types. */
export interface Builtins {
  /** Factories of the built-in types, by type id. */
  factories: Map<string, Factory>;
}

/** A running server. */
export interface Served {
  /** Where it listens. */
  address: Address;
  /** Its registry's object id. */
  registry: string;
  /** Resolves once it has shut down. */
  done: Promise<void>;
  /** The registry (for introspection in the serving process). */
  core: RegistryCore;
}

function custom(spec: TypeSpec): Factory {
  let fn: Promise<(...args: unknown[]) => unknown> | undefined;
  return async (args) => {
    fn ??= spec.fn
      ? Promise.resolve(spec.fn as (...args: unknown[]) => unknown)
      : import(spec.module).then((mod) =>
        findTarget(mod, { ...spec, kind: "function" }, `create '${spec.typeid}'`)
      );
    // Handles where the call said they are (marked), and nowhere else.
    const made = (await fn)(...await reviveMarked(args.slice()) as unknown[]);
    // Awaited only when a promise: an object with a `then` method of its
    // own is the object, not a promise of one.
    const obj = made instanceof Promise ? await made : made;
    if (typeof obj !== "object" || obj === null) {
      throw new TypeError(
        `Cannot create '${spec.typeid}': its factory must return an object, received ${typeof obj}`,
      );
    }
    if (TO_DESCRIPTOR in obj) {
      // A handle (a queue the factory shares): served as itself, never freed here.
      return { handle: obj as Travelling };
    }
    const c = new CustomCore(obj, spec.typeid, spec.methods);
    return { core: c, kind: "mp.object", extra: { typeid: spec.typeid, methods: c.methods } };
  };
}

/** Serves a manager from this process's hub until it is shut down. */
export async function serve(options: ServeOptions, builtins: Builtins): Promise<Served> {
  const factories = new Map(builtins.factories);
  for (const t of options.types ?? []) factories.set(t.typeid, custom(t));
  const addr = options.address;
  const open = hubAddress();
  if (open && (addr || options.authkey)) {
    throw new ProcessError(
      `Cannot serve manager: this process already serves objects at ${addressToString(open)}`,
    );
  }
  configureHub({
    authkey: options.authkey,
    ...(addr?.transport === "tcp"
      ? { transport: "tcp", hostname: addr.hostname, port: addr.port }
      : options.socketDir
      ? { dir: options.socketDir }
      : {}),
  });
  let stop!: () => void;
  const stopped = new Promise<void>((r) => (stop = r));
  const reg = new RegistryCore(factories, () => stop(), options.owner);
  const ref = new LocalRef(reg);
  let address: Address;
  try {
    address = await ref.address();
  } catch (err) {
    configureHub({}); // Back to this process's defaults.
    throw err;
  }
  reg.serveAt(address, ref.id);
  // A client that knows only the address asks which object is the registry;
  // the connection is closed once the answer is written.
  onHubMessage("manager", (channel) => {
    channel.post({ registry: ref.id }).then(() => channel.drain()).finally(() => channel.close())
      .catch(() => {});
  });
  const done = stopped.then(async () => {
    // Let the shutdown call's reply go out before hanging up.
    await delay(10);
    ref.release();
    dropAllPeers();
    configureHub({});
  });
  return { address, registry: ref.id, done, core: reg };
}
