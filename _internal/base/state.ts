/**
 * The one per-process (per-isolate) registry the API implies: who this
 * process is (name, identity, authkey, parent), its children, and the
 * context-wide defaults. It hangs off `globalThis` under a registered symbol
 * so that two copies of the library loaded in one isolate (a file URL and a
 * JSR URL, say) still share it: the bootstrapping guard depends on that.
 *
 * @module
 */

/** Which transport a new listener uses. */
export type TransportKind = "unix" | "tcp";

/** The transport used when none is asked for: Unix sockets, TCP where there are none. */
export function defaultTransport(): TransportKind {
  return Deno.build.os === "windows" ? "tcp" : "unix";
}

/** Length of an authkey made by {@link newAuthkey}. */
export const AUTHKEY_BYTES = 32;

/** A fresh random authkey. */
export function newAuthkey(): Uint8Array {
  return crypto.getRandomValues(new Uint8Array(AUTHKEY_BYTES));
}

/**
 * A value shared by every copy of the library loaded in this isolate, made
 * on first use: it hangs off `globalThis` under `Symbol.for(name)`.
 */
export function isolateGlobal<T>(name: string, init: () => T): T {
  const key = Symbol.for(`@mp/multiprocessing.${name}`);
  const g = globalThis as unknown as Record<symbol, T | undefined>;
  let v = g[key];
  if (v === undefined) {
    v = init();
    Object.defineProperty(g, key, { value: v, enumerable: false });
  }
  return v;
}

/** How a child is started. */
export type StartMethod = "subprocess" | "worker";

/** What a child knows of its parent. */
export interface ParentInfo {
  /** The parent's process name. */
  name: string;
  /** The parent's OS process id. */
  pid: number;
  /** The parent's ident. */
  ident: string;
}

/** A started child as the registry sees it. */
export interface ChildHandle {
  /** Whether it still runs. */
  isAlive(): boolean;
  /** Whether it is daemonic (terminated, not joined, when this one exits). */
  readonly daemon: boolean;
  /** Terminates it. */
  terminate(): void;
  /** Waits for it to exit. */
  join(): Promise<void>;
}

/** The registry. */
export interface RuntimeState {
  /** This process's name: `MainProcess`, `Process-1`, `Process-1:2`… */
  name: string;
  /** This process's position in the tree: [] at the root, [1, 2] for `Process-1:2`. */
  identity: number[];
  /** Children started so far (numbers the next child's name). */
  childCounter: number;
  /**
   * The authkey of this process tree; in a sandboxed child, the key derived
   * for it from its parent's (see {@link RuntimeState.kid}).
   */
  authkey: Uint8Array;
  /**
   * The id of {@link RuntimeState.authkey} as the hosts of this tree know it:
   * `""` for the tree's own key, `"c:…"` in a sandboxed child.
   */
  kid: string;
  /** A unique id for this process or worker. */
  ident: string;
  /** Whether this process is daemonic. */
  daemon: boolean;
  /** The parent, or null at the root. */
  parent: ParentInfo | null;
  /** Whether this isolate is a child started by the library. */
  isChild: boolean;
  /** The module targets come from by default: the root's main module. */
  mainModule: string | undefined;
  /** True while a child imports its target's module. */
  bootstrapping: boolean;
  /** The context-wide start method, once set. */
  startMethod: StartMethod | undefined;
  /** Context-wide extra flags for `deno run` children. */
  runtimeArgs: string[];
  /** Transport for this process's hub. */
  transport: TransportKind;
  /** Children started here and not yet reaped. */
  children: Set<ChildHandle>;
  /** Whether this isolate is a worker thread. */
  isWorker: boolean;
  /** The `Process` object standing for this process (set by process.ts). */
  current: unknown;
  /**
   * Command that starts this program's main module with extra arguments, as
   * a compiled binary is started; set by tests that simulate one. A real
   * binary (`Deno.build.standalone`) uses `[Deno.execPath()]`.
   */
  standaloneLauncher: string[] | undefined;
  /**
   * Run (and awaited) by a child before it exits: flush what handles have
   * buffered, as Python's queue feeder threads are joined at exit.
   */
  exitHooks: Set<() => Promise<void> | void>;
  /** Delivers a push that came over a worker's port; set by the object server. */
  portPush?: (m: { host: string; p: string; ev: string; a?: unknown[]; j?: string }) => void;
  /**
   * In a worker child: the hosts it reaches over message ports through its
   * parent (hubs of ancestors with no socket, `hub/ports.ts`).
   */
  portHosts?: string[];
  /** In a worker child: posts a message, with transfers, to its parent on its launch port. */
  sendUp?: (msg: unknown, transfer: Transferable[]) => void;
  /** In a child whose task asked for it: sends its parent one report over its launch channel. */
  report?: (value: unknown) => Promise<void>;
  /** Closes this process's connections to hosts; set by the object server. */
  closeClients?: () => void;
  /** The deno.json found for each module URL (see `findConfig`). */
  configCache: Map<string, string | undefined>;
  /**
   * How long a child may take to connect back and start its target, in ms
   * of this process being awake (a test shortens it).
   */
  startTimeoutMs: number;
}

/**
 * Whether this code runs in a worker thread (a Web Worker, or a
 * `node:worker_threads` Worker): only there has the global scope a
 * `postMessage`.
 */
export function inWorker(): boolean {
  return typeof (globalThis as { postMessage?: unknown }).postMessage === "function";
}

/** Whether this code runs in a `node:worker_threads` Worker (no `WorkerGlobalScope` there). */
export function inNodeWorker(): boolean {
  return inWorker() &&
    typeof (globalThis as { WorkerGlobalScope?: unknown }).WorkerGlobalScope !== "function";
}

function mainModuleOrUndefined(): string | undefined {
  try {
    return Deno.mainModule;
  } catch {
    return undefined;
  }
}

/** The registry of this isolate, made on first use. */
/**
 * The command that starts this program's main module with extra arguments
 * (a marker first), as a compiled binary starts itself, if this program is
 * one or simulates one; otherwise undefined.
 */
export function standaloneLauncher(): string[] | undefined {
  return state().standaloneLauncher ?? (Deno.build.standalone ? [Deno.execPath()] : undefined);
}

export function state(): RuntimeState {
  return isolateGlobal<RuntimeState>("state", () =>
    withLazyAuthkey({
      name: "MainProcess",
      identity: [],
      childCounter: 0,
      kid: "",
      ident: String(Deno.pid),
      daemon: false,
      parent: null,
      isChild: false,
      mainModule: mainModuleOrUndefined(),
      bootstrapping: false,
      startMethod: undefined,
      runtimeArgs: [],
      transport: defaultTransport(),
      children: new Set(),
      isWorker: inWorker(),
      current: undefined,
      standaloneLauncher: undefined,
      exitHooks: new Set(),
      configCache: new Map(),
      startTimeoutMs: 60_000,
    }));
}

/**
 * `s` with an `authkey` made on first read, as Python's main process has
 * one from its start: a child is given its own before it reads one, and
 * making one (the first `crypto` call) cost its start 0.2 ms.
 */
function withLazyAuthkey(s: Omit<RuntimeState, "authkey">): RuntimeState {
  let key: Uint8Array | undefined;
  return Object.defineProperty(s, "authkey", {
    get: () => key ??= newAuthkey(),
    set: (value: Uint8Array) => void (key = value),
    enumerable: true,
    configurable: true,
  }) as RuntimeState;
}
