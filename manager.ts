/**
 * Managers: a manager process hosts shared objects (queues, dicts, lists,
 * namespaces, values, locks…) and serves them over authenticated sockets,
 * as Python's `multiprocessing.managers` does. A factory call resolves a
 * proxy: a handle that can be passed to any Process or Pool task (of either
 * start method), and even reached by unrelated processes that know the
 * manager's address and key. Objects live while a proxy anywhere holds them.
 *
 * @example A dict shared with a child
 * ```ts
 * import { Manager, Process } from "./mod.ts";
 * import { assertEquals } from "@std/assert";
 *
 * const module = new URL("./tests/fixtures/manager_targets.ts", import.meta.url).href;
 * const { fillDict } = await import(module);
 *
 * await using manager = await Manager.start();
 * const d = await manager.dict<string, number>();
 * await using p = new Process({ target: fillDict, args: [d, 3], module });
 * await p.start();
 * await p.join();
 * assertEquals(await d.items(), [["k0", 0], ["k1", 1], ["k2", 2]]);
 * ```
 *
 * @module
 */

import { CLOSED, SocketChannel } from "./_internal/transport/channel.ts";
import { ProcessError } from "./_internal/base/errors.ts";
import { type Descriptor, hasHandles, packHandles, revive } from "./_internal/hub/handles.ts";
import { claim, forgetManager, registryRef, releaseOwned } from "./_internal/manager/refcount.ts";
import type { ObjectProxy } from "./manager/proxies.ts";
import { managerMain, serveManager } from "./manager/_main.ts";
import { type Served, type TypeSpec, typeSpec } from "./_internal/manager/server.ts";
import { closeClient } from "./_internal/hub/client.ts";
import { setHostAuthkey } from "./_internal/hub/connect.ts";
import type { ObjectRef } from "./_internal/hub/protocol.ts";
import { state } from "./_internal/base/state.ts";
import { type Address, toAddress, toAuthkey } from "./_internal/transport/address.ts";
import { connectAuthed } from "./_internal/transport/sockets.ts";
import { removeSocketDir, socketDirOf } from "./_internal/transport/socket_dir.ts";
import { Process } from "./process.ts";
import { type JoinableQueue, Queue } from "./queue.ts";
import type { Barrier } from "./synchronize/barrier.ts";
import type { BoundedSemaphore, Semaphore } from "./synchronize/semaphore.ts";
import type { Condition } from "./synchronize/condition.ts";
import type { Event } from "./synchronize/event.ts";
import type { Lock, RLock } from "./synchronize/lock.ts";
import type {
  ArrayProxy,
  DictKey,
  DictProxy,
  ListProxy,
  NamespaceProxy,
  ValueProxy,
} from "./manager/proxies.ts";
import { onAbort, raceTimer } from "./_internal/base/async.ts";

export {
  ArrayProxy,
  BaseProxy,
  type DictKey,
  DictProxy,
  ListProxy,
  MappingProxy,
  NamespaceProxy,
  ObjectProxy,
  SequenceProxy,
  ValueProxy,
} from "./manager/proxies.ts";

const SERVER_MODULE = new URL("./manager/_main.ts", import.meta.url).href;

/** Where a manager listens: a TCP host and port, or a Unix socket path. */
export type ManagerAddress =
  | { transport: "tcp"; hostname: string; port: number }
  | { transport: "unix"; path: string };

/** Options of a {@link BaseManager}. */
export interface ManagerOptions {
  /**
   * Where to listen (`start`, `serveForever`: a TCP `{ hostname, port }`,
   * port 0 for any free one) or where the manager is (`connect`).
   * @default {a private Unix socket}
   */
  address?: ManagerAddress | { hostname?: string; port: number };
  /**
   * The key clients must prove (bytes, or a string taken as UTF-8).
   * @default {this process tree's authkey}
   */
  authkey?: Uint8Array | string;
  /** Extra `deno run` flags for the manager process (`--import-map`…). */
  runtimeArgs?: string[];
}

/** Options of {@link BaseManager.register}. */
export interface RegisterOptions {
  /**
   * The methods a proxy may call.
   * @default {the object's public methods (names not starting with `_`)}
   */
  methods?: string[];
  /**
   * URL of the module exporting the factory (the manager process imports it).
   * @default {the main module}
   */
  module?: string;
}

/** Options of {@link BaseManager.serveForever}. */
export interface ServeForeverOptions {
  /** Called with the address once the manager listens. */
  onListen?: (address: ManagerAddress) => void;
  /** Shuts the manager down when aborted. */
  signal?: AbortSignal;
}

type Lifecycle = "initial" | "starting" | "started" | "connected" | "serving" | "shutdown";

const TYPES = new WeakMap<object, Map<string, TypeSpec>>();

function typesOf(cls: object | null): Map<string, TypeSpec> {
  for (let c = cls; c; c = Object.getPrototypeOf(c)) {
    const t = TYPES.get(c);
    if (t) return t;
  }
  return new Map();
}

function managerAddress(a: ManagerOptions["address"]): Address | undefined {
  return a && toAddress(a, "use manager address");
}

/**
 * Python's `BaseManager`: a server of registered types, started as a
 * manager process ({@link BaseManager.start}), run in this process
 * ({@link BaseManager.serveForever}), or reached where it already runs
 * ({@link BaseManager.connect}).
 *
 * @example A custom type with an allowlist of methods
 * ```ts
 * import { BaseManager } from "./manager.ts";
 * import { assertEquals, assertRejects } from "@std/assert";
 *
 * const module = new URL("./tests/fixtures/manager_targets.ts", import.meta.url).href;
 * const { makeCounter } = await import(module);
 *
 * class CounterManager extends BaseManager {}
 * CounterManager.register("Counter", makeCounter, { module, methods: ["add", "value"] });
 *
 * await using manager = new CounterManager();
 * await manager.start();
 * const counter = await manager.create("Counter", 1);
 * await counter.call("add", 41);
 * assertEquals(await counter.call("value"), 42);
 * await assertRejects(() => counter.call("reset"), TypeError, "not an exposed method");
 * ```
 */
export class BaseManager {
  #options: ManagerOptions;
  #authkey: Uint8Array;
  #lifecycle: Lifecycle = "initial";
  #process: Process | undefined;
  #address: Address | undefined;
  #registry: ObjectRef | undefined;
  #served: Served | undefined;

  /**
   * Registers a type: `create(typeid, ...args)` calls `factory(...args)`
   * in the manager process and resolves a proxy to the object it returns
   * (or, when it returns a handle such as a `Queue`, that handle). The
   * factory must be a function exported from `options.module`.
   *
   * @throws {TypeError} When `factory` is not a named function.
   */
  static register(
    typeid: string,
    // deno-lint-ignore no-explicit-any
    factory: (...args: any[]) => unknown,
    options: RegisterOptions = {},
  ): void {
    if (typeof factory !== "function" || !factory.name) {
      throw new TypeError(
        `Cannot register '${typeid}': the factory must be a named function exported from a module, received ${typeof factory}`,
      );
    }
    const module = options.module ?? state().mainModule;
    if (!module) throw new TypeError(`Cannot register '${typeid}': no main module; pass 'module'`);
    // Copy on first write, so a subclass's types do not leak to its parent.
    let own = TYPES.get(this);
    if (!own) TYPES.set(this, own = new Map(typesOf(Object.getPrototypeOf(this))));
    own.set(typeid, typeSpec(typeid, factory, module, options.methods));
  }

  /**
   * A manager not yet started or connected.
   *
   * @throws {RangeError} When the address's port is out of range.
   */
  constructor(options: ManagerOptions = {}) {
    managerAddress(options.address);
    this.#options = options;
    this.#authkey = options.authkey === undefined ? state().authkey : toAuthkey(options.authkey);
  }

  /** The key clients prove. */
  get authkey(): Uint8Array {
    return this.#authkey;
  }

  /**
   * Where the manager listens.
   *
   * @throws {ProcessError} Before it is started or connected.
   */
  get address(): ManagerAddress {
    if (!this.#address) {
      throw new ProcessError("Cannot read the manager's address: it is not started");
    }
    return { ...this.#address };
  }

  /** The manager process's pid (after `start`). */
  get pid(): number | undefined {
    return this.#process?.pid;
  }

  /** The manager process's exit code: `null` while it runs or when there is none. */
  get exitCode(): number | null {
    return this.#process?.exitCode ?? null;
  }

  #guard(what: string, ...allowed: Lifecycle[]): void {
    if (!allowed.includes(this.#lifecycle)) {
      throw new ProcessError(`Cannot ${what}: the manager is ${this.#lifecycle}`);
    }
  }

  #types(withFn: boolean): TypeSpec[] {
    return [...typesOf(this.constructor).values()].map((t) => {
      if (withFn) return t;
      const { fn: _fn, ...rest } = t;
      return rest;
    });
  }

  #attach(address: Address, registry: string): void {
    if (this.#options.authkey !== undefined) setHostAuthkey(address, this.#authkey);
    this.#address = address;
    this.#registry = registryRef(address, registry);
  }

  /**
   * Starts the manager process and resolves once it serves.
   *
   * @throws {ProcessError} When it is already started, or fails to start.
   */
  async start(): Promise<void> {
    this.#guard("start manager", "initial");
    this.#lifecycle = "starting";
    const address = managerAddress(this.#options.address);
    if (address?.transport === "unix") {
      this.#lifecycle = "initial";
      throw new TypeError(
        "Cannot start manager: it picks its own Unix socket; pass a TCP { hostname, port } or nothing",
      );
    }
    const reply = new Queue<{ address: Address; registry: string } | { error: string }>();
    const p = new Process({
      target: managerMain,
      args: [reply, {
        address,
        authkey: this.#options.authkey === undefined ? undefined : this.#authkey,
        types: this.#types(false),
      }],
      module: SERVER_MODULE,
      name: "SyncManager",
      startMethod: "subprocess",
      daemon: true,
      runtimeArgs: this.#options.runtimeArgs,
    });
    try {
      await p.start();
      this.#process = p;
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
      this.#attach(info.address, info.registry);
      // This process ending without shutdown() terminates the manager (a
      // daemonic child), which then has no time to remove its socket.
      globalThis.addEventListener("unload", this.#removeSocket);
      this.#lifecycle = "started";
    } catch (err) {
      this.#lifecycle = "initial";
      if (p.isAlive()) p.kill();
      throw err;
    } finally {
      await reply[Symbol.asyncDispose]();
    }
  }

  /**
   * Connects to a manager already running at `options.address` (started
   * by another process, or serving forever).
   *
   * @throws {AuthenticationError} When the key is wrong.
   * @throws {ProcessError} When nothing manager-like answers there.
   */
  async connect(): Promise<void> {
    this.#guard("connect to manager", "initial");
    const address = managerAddress(this.#options.address);
    if (!address) throw new TypeError("Cannot connect to manager: 'address' is required");
    const authed = await connectAuthed(address, this.#authkey, 10_000);
    const channel = new SocketChannel(authed);
    let reply: unknown;
    try {
      await channel.send({ op: "manager" });
      reply = await channel.recv();
    } finally {
      channel.close();
    }
    const registry = reply !== CLOSED && (reply as { registry?: unknown })?.registry;
    if (typeof registry !== "string") {
      throw new ProcessError(`Cannot connect to manager: no manager answers at ${fmt(address)}`);
    }
    // Connections to it prove this key, whatever this process tree's is.
    setHostAuthkey(address, this.#authkey);
    this.#attach(address, registry);
    this.#lifecycle = "connected";
  }

  /**
   * Serves the manager from this process until it is shut down (by a
   * client, `shutdown()` or `options.signal`). This process's hub then
   * listens where the manager was told, with its key.
   *
   * @throws {ProcessError} When already started.
   */
  async serveForever(options: ServeForeverOptions = {}): Promise<void> {
    this.#guard("serve manager", "initial");
    this.#lifecycle = "serving";
    if (this.#options.authkey !== undefined && !state().isChild) {
      // Children of a serving process connect back with the manager's key.
      state().authkey = this.#authkey;
    }
    let served: Served;
    try {
      served = await serveManager({
        address: managerAddress(this.#options.address),
        authkey: this.#options.authkey === undefined ? undefined : this.#authkey,
        types: this.#types(true),
      });
    } catch (err) {
      this.#lifecycle = "initial";
      throw err;
    }
    this.#served = served;
    this.#attach(served.address, served.registry);
    const off = onAbort(options.signal, () => served.core.shutdown());
    options.onListen?.(this.address);
    try {
      await served.done;
    } finally {
      off();
      this.#lifecycle = "shutdown";
    }
  }

  /**
   * Creates an object of a registered type in the manager and resolves a
   * proxy to it (or the handle its factory returned).
   *
   * @typeParam P The proxy's type.
   * @throws {TypeError} When the manager has no such type.
   */
  async create<P = ObjectProxy>(typeid: string, ...args: unknown[]): Promise<P> {
    this.#guard(`create '${typeid}'`, "started", "connected", "serving");
    const packed = hasHandles(args) ? await packHandles(args) : args;
    const d = await this.#registry!.call("create", [typeid, packed]) as Descriptor;
    const handle = await revive(d);
    // Disposing this instance gives back what was made through it.
    claim(this, handle);
    return handle as P;
  }

  /** How many objects the manager holds (for tests and debugging). */
  async liveObjects(): Promise<number> {
    this.#guard("count manager objects", "started", "connected", "serving");
    return await this.#registry!.call("count", []) as number;
  }

  /**
   * Stops the manager: its objects are freed, its process exits with code
   * 0 (it is killed if it does not within 2 s), and its socket is removed.
   * On a connected manager, asks the server to shut down. Idempotent.
   */
  async shutdown(): Promise<void> {
    const was = this.#lifecycle;
    if (was === "initial" || was === "shutdown" || was === "starting") return;
    this.#lifecycle = "shutdown";
    if (was === "serving") return this.#served!.core.shutdown();
    await this.#registry!.call("shutdown", []).catch(() => {});
    const p = this.#process;
    if (p) {
      await p.join(2000);
      if (p.exitCode === null) {
        p.kill();
        await p.join();
      }
    }
    await closeClient(this.#address!);
    // Nothing of it is kept: not its registry, its objects' marks or its key.
    forgetManager(this.#address!);
    // A killed manager could not remove its socket's directory.
    globalThis.removeEventListener("unload", this.#removeSocket);
    if (p) this.#removeSocket();
  }

  #removeSocket = (): void => {
    const a = this.#address, pid = this.#process?.pid;
    // Only the directory of the manager process this one started.
    const dir = a?.transport === "unix" && pid !== undefined ? socketDirOf(a.path, pid) : undefined;
    if (dir) removeSocketDir(dir);
  };

  /**
   * Started or serving: shuts the manager down ({@link BaseManager.shutdown}).
   * Connected: gives back the references of the proxies made through this
   * instance (the manager frees what nothing else holds) and leaves the
   * manager running; proxies made otherwise, and other instances connected
   * to the same manager, go on working.
   */
  [Symbol.asyncDispose](): Promise<void> {
    if (this.#lifecycle !== "connected") return this.shutdown();
    this.#lifecycle = "shutdown";
    releaseOwned(this);
    return Promise.resolve();
  }
}

/**
 * Python's `SyncManager` (what `multiprocessing.Manager()` returns): a
 * {@link BaseManager} with factories for queues, locks, semaphores,
 * conditions, events, barriers, dicts, lists, namespaces, values and arrays.
 *
 * @example The seed's example: a manager queue shared by pool tasks
 * ```ts
 * import { Manager, Pool } from "./mod.ts";
 * import { assertEquals } from "@std/assert";
 *
 * const module = new URL("./tests/fixtures/manager_targets.ts", import.meta.url).href;
 * const { writer, reader } = await import(module);
 *
 * await using manager = await Manager.start();
 * const q = await manager.Queue<string>();
 * await using pool = new Pool(2);
 * await pool.apply(writer, [1, q], { module });
 * assertEquals(await pool.apply(reader, [1, q], { module }), "I am process 1");
 * ```
 */
export class Manager extends BaseManager {
  /** Creates a manager and starts its process ({@link BaseManager.start}). */
  static async start(options: ManagerOptions = {}): Promise<Manager> {
    const m = new Manager(options);
    await m.start();
    return m;
  }

  /** A queue served by the manager (an ordinary {@link Queue} handle). */
  Queue<T = unknown>(maxsize = 0): Promise<Queue<T>> {
    return this.create("Queue", maxsize);
  }

  /** A joinable queue served by the manager. */
  JoinableQueue<T = unknown>(maxsize = 0): Promise<JoinableQueue<T>> {
    return this.create("JoinableQueue", maxsize);
  }

  /** A dict, filled from `init` (a Map, pairs or an object). */
  async dict<K extends DictKey = string, V = unknown>(
    init: Map<K, V> | [K, V][] | Record<string, V> = [],
  ): Promise<DictProxy<K, V>> {
    const pairs = init instanceof Map || Array.isArray(init) ? [...init] : Object.entries(init);
    return await this.create("dict", pairs);
  }

  /** A list of `items`. */
  list<T = unknown>(items: Iterable<T> = []): Promise<ListProxy<T>> {
    return this.create("list", [...items]);
  }

  /** A namespace with attributes `attrs`. */
  Namespace(attrs: Record<string, unknown> = {}): Promise<NamespaceProxy> {
    return this.create("Namespace", attrs);
  }

  /** A value; `typecode` (`"i"`, `"d"`…) is kept as data. */
  Value<T = number>(typecode: string, value: T): Promise<ValueProxy<T>> {
    return this.create("Value", typecode, value);
  }

  /** A lock served by the manager (an ordinary {@link Lock} handle). */
  Lock(): Promise<Lock> {
    return this.create("Lock");
  }

  /** A recursive lock served by the manager. */
  RLock(): Promise<RLock> {
    return this.create("RLock");
  }

  /** A semaphore with `value` permits. */
  Semaphore(value = 1): Promise<Semaphore> {
    return this.create("Semaphore", value);
  }

  /** A semaphore that refuses releases above its initial `value`. */
  BoundedSemaphore(value = 1): Promise<BoundedSemaphore> {
    return this.create("BoundedSemaphore", value);
  }

  /** A condition variable, on `lock` (a lock of this manager) or a lock of its own. */
  Condition(lock?: Lock): Promise<Condition> {
    return lock ? this.create("Condition", lock) : this.create("Condition");
  }

  /** An event, initially clear. */
  Event(): Promise<Event> {
    return this.create("Event");
  }

  /** A barrier for `parties` (an `action` cannot cross processes: only `timeout`). */
  Barrier(parties: number, options: { timeout?: number } = {}): Promise<Barrier> {
    return this.create("Barrier", parties, options);
  }

  /** A fixed-length array of `items`; `typecode` is kept as data. */
  Array<T = number>(typecode: string, items: Iterable<T>): Promise<ArrayProxy<T>> {
    return this.create("Array", typecode, [...items]);
  }
}

function fmt(a: Address): string {
  return a.transport === "unix" ? a.path : `${a.hostname}:${a.port}`;
}
