/**
 * `BaseManager`: Python's manager of registered types, started as a manager
 * process, served from this process, or reached where it runs.
 *
 * @module
 */

import { ProcessError } from "../_internal/base/errors.ts";
import { hasHandles, packHandles, reviveAt, WithHandles } from "../_internal/hub/handles.ts";
import { claim, forgetManager, registryRef, releaseOwned } from "../_internal/manager/refcount.ts";
import type { Factory, ObjectProxy, ProxyFor } from "./object_proxy.ts";
import type { Served, TypeSpec } from "../_internal/manager/server.ts";
import { fingerprint } from "../_internal/process/target.ts";
import { setHostAuthkey } from "../_internal/hub/host_keys.ts";
import type { ObjectRef } from "../_internal/hub/protocol.ts";
import { state } from "../_internal/base/state.ts";
import { type Address, toAuthkey } from "../_internal/transport/address.ts";
import { checkAuthkey } from "../_internal/transport/keys.ts";
import { makeSocketDir, removeSocketDir } from "../_internal/transport/socket_dir.ts";
import type { Process } from "../process.ts";
import { onAbort } from "../_internal/base/async.ts";
import { checkOptionNames, optionNames } from "../_internal/base/options.ts";
import {
  fmt,
  type ManagerAddress,
  managerAddress,
  type ManagerOptions,
  ownTypes,
  type RegisterOptions,
  type ServeForeverOptions,
  typesOf,
} from "./options.ts";

type Lifecycle = "initial" | "starting" | "started" | "connected" | "serving" | "shutdown";

/** A type's spec for the manager process: its factory found again by module and export. */
function registered(typeid: string, factory: Factory, options: RegisterOptions): TypeSpec {
  if (typeof factory !== "function" || !factory.name) {
    throw new TypeError(
      `Cannot register '${typeid}': the factory must be a named function exported from a module, received ${typeof factory}`,
    );
  }
  checkOptionNames(`register '${typeid}'`, options, REGISTER_OPTIONS);
  const module = options.module ?? state().mainModule;
  if (!module) throw new TypeError(`Cannot register '${typeid}': no main module; pass 'module'`);
  return {
    typeid,
    module: String(module),
    exportName: factory.name,
    fingerprint: fingerprint(factory),
    methods: options.methods,
    fn: factory,
  };
}

const REGISTER_OPTIONS = optionNames("methods", "module");

/**
 * Python's `BaseManager`: a server of registered types, started as a
 * manager process ({@link BaseManager.start}), run in this process
 * ({@link BaseManager.serveForever}), or reached where it already runs
 * ({@link BaseManager.connect}).
 *
 * @example A registered type, typed, with an allowlist of methods
 * ```ts
 * import { BaseManager } from "@mp/multiprocessing/manager";
 * import { makeTally } from "@mp/multiprocessing/targets";
 * import { assertEquals, assertRejects } from "@std/assert";
 *
 * // In a program, makeTally would be an export of your own module.
 * const module = import.meta.resolve("@mp/multiprocessing/targets");
 * class TallyManager extends BaseManager<{ Tally: typeof makeTally }> {}
 * TallyManager.register("Tally", makeTally, { module, methods: ["add", "value"] });
 *
 * await using manager = new TallyManager();
 * await manager.start();
 * const tally = await manager.create("Tally", 1);
 * assertEquals(await tally.add(41), 42);
 * assertEquals(await tally.value(), 42);
 * await assertRejects(() => tally.call("reset"), TypeError, "not an exposed method");
 * ```
 */
export class BaseManager<Types extends Record<string, Factory> = Record<string, Factory>> {
  #options: ManagerOptions;
  /** Types registered on this instance only. */
  #own = new Map<string, TypeSpec>();
  #authkey: Uint8Array;
  #lifecycle: Lifecycle = "initial";
  #process: Process | undefined;
  #address: Address | undefined;
  /** The directory this process made for its manager's socket. */
  #socketDir: string | undefined;
  #registry: ObjectRef | undefined;
  #served: Served | undefined;

  /**
   * Registers a type for every manager of this class (and its
   * subclasses): `create(typeid, ...args)` calls `factory(...args)` in the
   * manager process and resolves a proxy to the object it returns, with
   * the object's exposed methods as its own (or, when it returns a handle
   * such as a `Queue`, that handle). The factory must be a function
   * exported from `options.module`. Type the proxies with the class's type
   * map: `class M extends BaseManager<{ Store: typeof makeStore }> {}`.
   *
   * @param typeid The type's name, for `create()`.
   * @param factory An exported function that makes the object.
   * @param options `methods` (the allowlist), `module`.
   * @throws {TypeError} When `factory` is not a named function, or no module is known.
   */
  static register(typeid: string, factory: Factory, options: RegisterOptions = {}): void {
    ownTypes(this).set(typeid, registered(typeid, factory, options));
  }

  /**
   * Registers a type for this manager only (as {@link BaseManager.register}
   * does for a class), before it starts or serves.
   *
   * @param typeid The type's name, for `create()`.
   * @param factory An exported function that makes the object.
   * @param options `methods` (the allowlist), `module`.
   * @returns This manager, typed with the new type: `new
   * BaseManager().register("Store", makeStore)` then `create("Store")`.
   * @throws {TypeError} When `factory` is not a named function, or no module is known.
   * @throws {ProcessError} Once the manager is started, connected or serving.
   */
  register<K extends string, F extends Factory>(
    typeid: K,
    factory: F,
    options: RegisterOptions = {},
  ): BaseManager<Types & Record<K, F>> & this {
    if (this.#lifecycle !== "initial") {
      throw new ProcessError(
        `Cannot register '${typeid}': register types before start() or serveForever(); the manager is ${this.#lifecycle}`,
      );
    }
    this.#own.set(typeid, registered(typeid, factory, options));
    return this as BaseManager<Types & Record<K, F>> & this;
  }

  /**
   * A manager not yet started or connected.
   *
   * @param options Where it listens (or, to `connect`, where it is), its key and its
   * process's flags ({@link ManagerOptions}); each has a default.
   * @throws {RangeError} When the address's port is out of range, or the
   * authkey is shorter than 16 bytes.
   */
  constructor(options: ManagerOptions = {}) {
    managerAddress(options.address);
    this.#options = options;
    this.#authkey = options.authkey === undefined
      ? state().authkey
      : checkAuthkey(toAuthkey(options.authkey), "create manager");
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
    const all = new Map([...typesOf(this.constructor), ...this.#own]);
    return [...all.values()].map((t) => {
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
    // The socket's directory is made here, and only it is removed here:
    // never a path another process names.
    const dir = (address?.transport ?? state().transport) === "unix" ? makeSocketDir() : undefined;
    this.#socketDir = dir;
    try {
      const { startManagerProcess } = await import("./_start.ts");
      const started = await startManagerProcess({
        address,
        authkey: this.#options.authkey === undefined ? undefined : this.#authkey,
        types: this.#types(false),
        runtimeArgs: this.#options.runtimeArgs,
        socketDir: dir,
      });
      this.#process = started.process;
      this.#attach(started.address, started.registry);
    } catch (err) {
      this.#lifecycle = "initial";
      this.#removeSocket();
      throw err;
    }
    // This process ending without shutdown() terminates the manager (a
    // daemonic child), which then has no time to remove its socket.
    globalThis.addEventListener("unload", this.#removeSocket);
    this.#lifecycle = "started";
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
    const [{ connectAuthed }, { CLOSED, SocketChannel }] = await Promise.all([
      import("../_internal/transport/sockets.ts"),
      import("../_internal/transport/channel.ts"),
    ]);
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
   * @param options `onListen`, called with the address once it listens; `signal`, which
   * shuts it down when aborted.
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
      const { serveManager } = await import("./_main.ts");
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
   * proxy to it, with its exposed methods as methods (or the handle its
   * factory returned), typed from the manager's type map.
   *
   * @param typeid The type's name.
   * @param args The factory's arguments.
   * @returns The proxy (or handle).
   * @throws {TypeError} When the manager has no such type.
   * @throws {ProcessError} When the manager is not started, connected or serving.
   */
  create<K extends keyof Types & string>(
    typeid: K,
    ...args: Parameters<Types[K]>
  ): Promise<ProxyFor<ReturnType<Types[K]>>>;
  /**
   * Creates an object of a type the type map does not name, and resolves
   * its proxy as `P`.
   *
   * @typeParam P The proxy's (or handle's) type.
   * @param typeid The type's name.
   * @param args The factory's arguments.
   * @returns The proxy (or handle).
   * @throws {TypeError} When the manager has no such type.
   */
  create<P = ObjectProxy>(typeid: string, ...args: unknown[]): Promise<P>;
  /**
   * Creates an object of a registered type in the manager and resolves a
   * proxy to it (or the handle its factory returned).
   *
   * @param typeid The type's name.
   * @param args The factory's arguments.
   * @returns The proxy (or handle).
   * @throws {TypeError} When the manager has no such type.
   * @throws {ProcessError} When the manager is not started, connected or serving.
   */
  async create(typeid: string, ...args: unknown[]): Promise<unknown> {
    this.#guard(`create '${typeid}'`, "started", "connected", "serving");
    const packed = hasHandles(args) ? await packHandles(args) : { value: args };
    // The handles' paths, from the call's arguments: [typeid, args].
    const handles = packed.handles?.map((p) => [1, ...p]);
    const made = await this.#registry!.call("create", [typeid, packed.value], { handles });
    if (!(made instanceof WithHandles)) {
      throw new ProcessError(`Cannot create '${typeid}': the manager did not answer with a handle`);
    }
    const handle = await reviveAt(made.value, made.handles);
    // Disposing this instance gives back what was made through it.
    claim(this, handle);
    return handle;
  }

  /**
   * How many objects the manager holds (for tests and debugging).
   *
   * @returns The number of objects it holds.
   * @throws {ProcessError} When the manager is not started, connected or serving.
   */
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
    const { closeClient } = await import("../_internal/hub/client.ts");
    await closeClient(this.#address!);
    // Nothing of it is kept: not its registry, its objects' marks or its key.
    forgetManager(this.#address!);
    // A killed manager could not remove its socket's directory.
    globalThis.removeEventListener("unload", this.#removeSocket);
    if (p) this.#removeSocket();
  }

  #removeSocket = (): void => {
    // Only the directory this process made: its socket, then the directory if empty.
    const dir = this.#socketDir;
    this.#socketDir = undefined;
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
