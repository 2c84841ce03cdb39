/**
 * The manager server: a registry of object types, served from this
 * process's hub (where and with the key the manager was given). Runs in a
 * manager process started by `BaseManager.start()` ({@link managerMain} is
 * that process's target), or in the current process (`serveForever`).
 *
 * @module
 */

import { findTarget, fingerprint } from "./child.ts";
import { reviveHandles, TO_DESCRIPTOR, type Travelling } from "./handles.ts";
import { configureHub, hubAddress, onHubMessage } from "./hub.ts";
import { ProcessError } from "./errors.ts";
import { PROXIES_URL } from "./manager_proxies.ts";
import {
  CustomCore,
  DictCore,
  type DictKey,
  ListCore,
  NamespaceCore,
  ValueCore,
} from "./manager_cores.ts";
import { type Factory, type Made, RegistryCore } from "./manager_registry.ts";
import { LocalRef } from "./objects.ts";
import { dropAllPeers } from "./object_server.ts";
import { closeClients } from "./object_client.ts";
import { type Address, addressToString } from "./transport.ts";
import { JoinableQueue, Queue } from "../queue.ts";
import {
  Barrier,
  type BarrierOptions,
  BoundedSemaphore,
  Condition,
  Event,
  Lock,
  RLock,
  Semaphore,
} from "../synchronize.ts";

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

function handleOf(h: Travelling & { [Symbol.asyncDispose](): unknown }): Made {
  return { handle: h, dispose: () => void h[Symbol.asyncDispose]() };
}

function builtins(): Map<string, Factory> {
  const f = new Map<string, Factory>();
  f.set("Queue", (a) => handleOf(new Queue(a[0] as number | undefined)));
  f.set("JoinableQueue", (a) => handleOf(new JoinableQueue(a[0] as number | undefined)));
  f.set(
    "dict",
    (a, h) => ({ core: new DictCore(h, a[0] as [DictKey, unknown][]), kind: "mp.dict" }),
  );
  f.set("list", (a, h) => ({ core: new ListCore(h, a[0] as unknown[]), kind: "mp.list" }));
  f.set("Namespace", (a, h) => ({
    core: new NamespaceCore(h, a[0] as Record<string, unknown>),
    kind: "mp.namespace",
  }));
  f.set("Value", (a, h) => ({
    core: new ValueCore(h, a[1]),
    kind: "mp.value",
    extra: { typecode: a[0] },
  }));
  f.set("Array", (a, h) => ({
    core: new ListCore(h, a[1] as unknown[], true),
    kind: "mp.array",
    extra: { typecode: a[0] },
  }));
  f.set("Lock", () => handleOf(new Lock()));
  f.set("RLock", () => handleOf(new RLock()));
  f.set("Semaphore", (a) => handleOf(new Semaphore(a[0] as number | undefined)));
  f.set("BoundedSemaphore", (a) => handleOf(new BoundedSemaphore(a[0] as number | undefined)));
  f.set("Event", () => handleOf(new Event()));
  f.set("Barrier", (a) => handleOf(new Barrier(a[0] as number, a[1] as BarrierOptions)));
  // A Condition may be built on a lock of this manager: the lock itself
  // (with its memory), held by the condition while it lives.
  f.set("Condition", (a, reg) => {
    const [d] = reg.ownDescriptors(a);
    if (a.length > 0 && !d) {
      throw new TypeError("Cannot create condition: its lock must be a lock of this manager");
    }
    const lock = d ? reg.handleOf(d.id) as Lock : undefined;
    if (d && !(lock instanceof Lock)) {
      throw new TypeError("Cannot create condition: its lock must be a Lock or RLock");
    }
    const cond = new Condition(lock);
    reg.stored(a);
    return {
      handle: cond,
      dispose: () => {
        void cond[Symbol.asyncDispose]();
        reg.removed(a);
      },
    };
  });
  return f;
}

function custom(spec: TypeSpec): Factory {
  let fn: Promise<(...args: unknown[]) => unknown> | undefined;
  return async (args) => {
    fn ??= spec.fn
      ? Promise.resolve(spec.fn as (...args: unknown[]) => unknown)
      : import(spec.module).then((mod) =>
        findTarget(mod, { ...spec, kind: "function" }, `create '${spec.typeid}'`)
      );
    const obj = await (await fn)(...await reviveHandles(args.slice()));
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

/** Describes a factory for the manager process: module, export name, fingerprint. */
export function typeSpec(
  typeid: string,
  fn: (...args: never[]) => unknown,
  module: string,
  methods?: string[],
): TypeSpec {
  return { typeid, module, exportName: fn.name, fingerprint: fingerprint(fn), methods, fn };
}

/** Serves a manager from this process's hub until it is shut down. */
export async function serve(options: ServeOptions = {}): Promise<Served> {
  const factories = builtins();
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
      : {}),
  });
  let stop!: () => void;
  const stopped = new Promise<void>((r) => (stop = r));
  const reg = new RegistryCore(factories, PROXIES_URL, () => stop());
  const ref = new LocalRef(reg);
  let address: Address;
  try {
    address = await ref.address();
  } catch (err) {
    configureHub({}); // Back to this process's defaults.
    throw err;
  }
  reg.serveAt(address, ref.id, options.authkey);
  // A client that knows only the address asks which object is the registry.
  onHubMessage("manager", (channel) => {
    channel.post({ registry: ref.id }).catch(() => {});
  });
  const removeDir = () => {
    if (address.transport !== "unix") return;
    try {
      Deno.removeSync(address.path.replace(/\/[^/]*$/, ""), { recursive: true });
    } catch { /* already gone */ }
  };
  // Killed by its owner's death (stdin EOF exits at once): no socket left.
  globalThis.addEventListener("unload", removeDir);
  const done = stopped.then(async () => {
    // Let the shutdown call's reply go out before hanging up.
    await new Promise((r) => setTimeout(r, 10));
    ref.release();
    dropAllPeers();
    globalThis.removeEventListener("unload", removeDir);
    removeDir();
    configureHub({});
  });
  return { address, registry: ref.id, done, core: reg };
}

/** What the manager process reports to its owner. */
export interface ManagerInfo {
  /** Where it listens. */
  address: Address;
  /** Its registry's object id. */
  registry: string;
}

/** The manager process's target: serve, report where, wait for shutdown. */
export async function managerMain(
  reply: Queue<ManagerInfo | { error: string }>,
  options: ServeOptions,
): Promise<void> {
  let served: Served;
  try {
    served = await serve(options);
  } catch (err) {
    await reply.put({ error: (err as Error).message });
    await reply.joinThread();
    throw err;
  }
  await reply.put({ address: served.address, registry: served.registry });
  await reply.joinThread();
  // Hang up on the owner's hub: an open connection would keep the owner
  // alive (its side is read) after its program ends.
  closeClients();
  await served.done;
}
