/**
 * The entry of the children that take their task over a channel, and of
 * cold ones whose task has handles:
 * - a `deno run` subprocess: `Deno.args[0]` is the ticket and the authkey
 *   arrives on stdin (EOF there means the parent is gone); one that connects
 *   back to its parent's hub (a warm spare, a child that reports a value)
 *   fetches its task there, a cold one reads it on stdin (`child.ts`);
 * - a worker (Web Worker or `node:worker_threads`): its task arrives by
 *   message;
 * - a compiled binary started with the marker: the binary runs the user's
 *   main module, which imports the library, which imports `standalone.ts`,
 *   which imports this module; here the main thread holds the main module's
 *   body (a top-level await that never settles) and runs the child in a
 *   worker entered through this module, where the main module is an
 *   ordinary import.
 *
 * @module
 */

import type { Channel, MessagePortLike } from "../transport/channel.ts";
import { inNodeWorker, inWorker, type RuntimeState, state } from "../base/state.ts";
import type { LaunchKeyMessage } from "./launch_key.ts";
import { logger } from "../base/log.ts";
import type { Preload, TaskSpec } from "./task_spec.ts";
import { fingerprint } from "./target.ts";
import { type Exit, WorkerExit } from "./worker_exit.ts";
import { type ConnectTicket, decodeTicket } from "./ticket.ts";
import {
  authkeyFromStdin,
  bootstrap,
  importing,
  joinFamily,
  runChild,
  setArgs,
  type TakeHandles,
  watchParent,
} from "./child_run.ts";
import { coldMain } from "./child.ts";

/**
 * URL of the module that workers, spares and children that report a value
 * start in (a child started cold without handles starts in `child.ts`).
 */
export const LINKED_ENTRY_URL: string = import.meta.url;

/**
 * Takes the access a task brings to the hosts of its handles, and revives
 * the handles in its arguments and fields. The modules that do so load here,
 * for a task that has any; a target that imports the library has loaded
 * them already.
 */
const takeHandles: TakeHandles = async (
  spec: Pick<TaskSpec, "access" | "handles" | "args" | "fields">,
): Promise<void> => {
  if (spec.access !== undefined) (await import("../hub/grants.ts")).useAccess(spec.access);
  if (spec.handles === undefined) return;
  const { reviveAt } = await import("../hub/handles.ts");
  spec.args = await reviveAt(spec.args, spec.handles.args);
  spec.fields = await reviveAt(spec.fields, spec.handles.fields);
};

/** A `deno run` child started here: cold with handles, or connecting back. */
function subprocessMain(): Promise<never> {
  const ticket = decodeTicket(Deno.args[0]);
  return ticket.stdin ? coldMain(takeHandles) : connectedMain(ticket);
}

/**
 * The modules a child needs to connect back to its parent: a child started
 * cold runs its target without them (it connects, if ever, for a handle),
 * and each module a child loads costs its start about 0.1 ms.
 */
function linkModules() {
  return Promise.all([
    import("../transport/channel.ts"),
    import("../transport/sockets.ts"),
    import("../transport/address.ts"),
  ]);
}

/** Opens a connection to the ticket's address. */
async function connectBack(t: ConnectTicket): Promise<Deno.Conn> {
  const [, { connectTo }, { parseAddress }] = await linkModules();
  return await connectTo(parseAddress(t.address));
}

/**
 * Proves the key over `conn` (a connection to the ticket's address, or one
 * opened now) and presents the ticket.
 */
async function connectWithTicket(
  t: ConnectTicket,
  key: LaunchKeyMessage,
  conn?: Promise<Deno.Conn>,
): Promise<Channel> {
  const [{ SocketChannel }, { connectTo, proveKey }, { parseAddress }] = await linkModules();
  const address = parseAddress(t.address);
  // Bound to the parent's address: the handshake cannot be relayed elsewhere.
  const channel = new SocketChannel(
    await proveKey(await (conn ?? connectTo(address)), address, {
      key: key.key,
      kid: key.kid,
      bind: true,
    }),
  );
  await channel.send({ op: "hello", ticket: t.ticket });
  return channel;
}

async function receiveTask(channel: Channel): Promise<TaskSpec> {
  const { CLOSED } = await import("../transport/channel.ts");
  let msg = await channel.recv();
  // A warm spare: its rehearsal, and modules to import while it waits (`preload`).
  for (; msg !== CLOSED && (msg as { op?: string }).op === "warm"; msg = await channel.recv()) {
    await rehearse((msg as { preload?: Preload }).preload, false);
  }
  if (msg === CLOSED || (msg as { op?: string }).op !== "task") {
    throw new Error("The parent closed the connection before sending a task");
  }
  return (msg as { spec: TaskSpec }).spec;
}

/**
 * A warm spare imports, while it waits, the modules its parent's last
 * children on spares ran (as Python's forkserver imports the main module
 * once), in its parent's context and bootstrapping as a child does, and
 * the library's modules that revived their handles, and the client they
 * reach their hosts with: its task then finds them loaded. A module that fails to import is left
 * for the task, which fails as it would have (the import's failure is kept
 * with the module).
 */
async function preload(p: Preload): Promise<void> {
  joinFamily(p.family);
  for (const m of p.library) await import(m).catch(() => {});
  // Handles reach their hosts through the client, which their modules
  // load only when they first call (a child that is given none never does).
  if (p.library.length > 0) await import("../hub/client.ts");
  for (const m of p.modules) await importing(import(m)).catch(() => {});
}

/**
 * A `deno run` child that connects back for its task (a spare, one that
 * reports a value): its ticket names the parent's hub, its key comes on
 * stdin.
 */
async function connectedMain(ticket: ConnectTicket): Promise<never> {
  // Connecting needs no key: both are under way at once.
  const conn = connectBack(ticket);
  conn.catch(() => {}); // Awaited below, unless the parent is gone first.
  const key = await authkeyFromStdin(() => Deno.exit(1));
  watchParent(() => Deno.exit(1));
  const importing = ticket.boot ? bootstrap(ticket.boot, key) : undefined;
  const channel = await connectWithTicket(ticket, key, conn);
  return runChild(
    channel,
    await receiveTask(channel),
    key,
    (code) => Deno.exit(code),
    importing,
    takeHandles,
  );
}

/**
 * A `node:worker_threads` thread ends on `Deno.exit(n)` or `close()` with
 * that code (its parent hears it), but an uncaught error would take the
 * whole process down: it is reported here, as a subprocess child's is, and
 * ends this thread with code 1. `self` is the Web Worker's name for the
 * global scope: user code that calls `self.close()` finds it.
 */
function asNodeThread(name: () => string): void {
  const g = globalThis as unknown as { self?: unknown };
  g.self ??= globalThis;
  const die = (e: Event, error: unknown) => {
    e.preventDefault();
    console.error(`Process ${name()}:\n${error instanceof Error ? error.stack : String(error)}`);
    Deno.exit(1);
  };
  globalThis.addEventListener("error", (e) => die(e, e.error ?? e.message));
  globalThis.addEventListener("unhandledrejection", (e) => die(e, e.reason));
}

/**
 * A warm spare's rehearsal of its first task's path, asked for by its
 * parent (`{op: "warm"}`) once it is up: a task of the library's own (a
 * no-op target in a module not loaded yet) run down the path a real task
 * takes, from the message to the exit, which is not taken. V8 compiles a
 * function when it first runs: measured on a spare thread, its task took
 * 0.7 ms to arrive and 0.9 ms more to reach its target's import when that
 * path ran for the first time with the task, 0.3 ms and 0.5 ms once the
 * import alone was rehearsed, and start to join went from 2.9 to 2.1 ms
 * once the whole path was (the first `logger()` and the first run of the
 * functions between the message and the target took 0.5 ms of it). The
 * first `clearInterval` in a thread costs 0.1-0.2 ms more (the second a few
 * µs): the task pays it when the spare stops holding itself alive, unless
 * the rehearsal did once.
 *
 * The rehearsal leaves the spare as it found it: its state, `Deno.args`
 * and log level are put back, it logs nothing, it runs no exit hook (it
 * has its own, empty), and what it sends goes nowhere.
 */
async function rehearse(p: Preload | undefined, viaPort: boolean): Promise<void> {
  // Loaded already: a spare got here over a channel, whose modules import it.
  const { keepAlive } = await import("../base/async.ts");
  keepAlive()();
  clearInterval(setInterval(() => {}, 1 << 30));
  const { rehearsal } = await import("./rehearsal.ts");
  const s = state();
  const saved = { ...s };
  const args = Deno.args;
  const log = logger();
  const level = log.level;
  Object.assign(s, { exitHooks: new Set(), children: new Set(), closeClients: undefined });
  log.level = "off";
  const spec: TaskSpec = {
    module: new URL("./rehearsal.ts", import.meta.url).href,
    exportName: rehearsal.name,
    fingerprint: fingerprint(rehearsal),
    kind: "function",
    args: [],
    fields: {},
    name: s.name,
    identity: s.identity,
    daemon: false,
    parent: s.parent ?? { name: "", pid: 0, ident: "" },
    runtimeArgs: s.runtimeArgs,
    transport: s.transport,
    handles: { args: [], fields: [] },
  };
  const nowhere = { send: () => Promise.resolve() };
  const exit = (code: number) => Promise.reject(new Rehearsed(code));
  try {
    const code = await (viaPort
      ? runWorker(nowhere, { spec: { ...spec, authkey: s.authkey, kid: s.kid } }, exit)
      : runChild(nowhere, spec, { key: s.authkey, kid: s.kid }, exit, undefined, takeHandles))
      .catch((e) =>
        e instanceof Rehearsed ? e.code : Promise.reject(e)
      );
    if (code !== 0) throw new Error(`The rehearsal exited with code ${code}`);
  } finally {
    Object.assign(s, saved);
    setArgs(args);
    log.level = level;
  }
  if (p) await preload(p);
}

/** How a rehearsal's task ends: it does not exit (see {@link rehearse}). */
class Rehearsed {
  constructor(readonly code: number) {}
}

/** A worker child, of the worker method or inside a compiled binary. */
async function workerMain(): Promise<never> {
  const node = inNodeWorker();
  if (node) asNodeThread(() => state().name);
  // The channel's modules load async.ts too: out of a cold subprocess child's graph.
  const [{ CLOSED, PortChannel }, { keepAlive }] = await Promise.all([
    import("../transport/channel.ts"),
    import("../base/async.ts"),
  ]);
  const port = new PortChannel(globalThis as unknown as MessagePortLike);
  // A listener does not keep a node:worker_threads thread alive: a spare,
  // waiting for its task, would end.
  const waiting = keepAlive();
  // Loaded: a spare counts as ready from here (the task may come much later).
  port.post({ op: "up" });
  let first = await port.recv() as Record<string, unknown>;
  while (first.op === "warm") {
    await rehearse(first.preload as Preload | undefined, true);
    port.post({ op: "warmed" });
    first = await port.recv() as Record<string, unknown>;
  }
  waiting();
  // Later messages are pushes from hosts in the parent (pipe data).
  (async () => {
    while (true) {
      const m = await port.recv();
      if (m === CLOSED) return;
      if ((m as { op?: string }).op === "push") {
        state().portPush?.(m as Parameters<NonNullable<RuntimeState["portPush"]>>[0]);
      }
    }
  })();
  if (node) {
    return await runWorker(port, first, (code) => {
      port.post({ op: "exit", code });
      return Deno.exit(code);
    });
  }
  const exit = async (code: number): Promise<never> => {
    await port.send({ op: "exit", code });
    self.close();
    // The parent terminates this worker on that message; nothing more runs.
    return await new Promise<never>(() => {});
  };
  // A Web Worker's Deno.exit() would end it silently: the parent must hear
  // the code, and the target unwind.
  const patchable = Deno as unknown as { exit: (code?: number) => never };
  patchable.exit = (code = 0) => {
    port.send({ op: "exit", code });
    throw new WorkerExit(code);
  };
  return await runWorker(port, first, exit);
}

/** Runs the task a worker child received first (or, in a compiled binary, fetched). */
async function runWorker(
  port: Pick<Channel, "send">,
  first: Record<string, unknown>,
  exit: Exit,
): Promise<never> {
  if (first.op === "standalone") {
    const key = first.key as LaunchKeyMessage;
    const channel = await connectWithTicket(first.ticket as ConnectTicket, key);
    return runChild(channel, await receiveTask(channel), key, exit, undefined, takeHandles);
  }
  const spec = first.spec as TaskSpec;
  // Hubs with no socket it reaches over ports, through its parent (`hub/ports.ts`).
  if (spec.portHosts && inNodeWorker()) {
    const s = state();
    s.portHosts = spec.portHosts;
    s.sendUp = (msg, transfer) =>
      (globalThis as unknown as MessagePortLike).postMessage(msg, transfer);
  }
  // Over the port from the parent: the tree's key, or a sandbox's own.
  const key = { key: spec.authkey!, kid: spec.kid ?? "" };
  return runChild(port, spec, key, exit, undefined, takeHandles);
}

/**
 * The main thread of a compiled binary started as a child: holds the main
 * module's body forever and runs the child in a worker (`standalone.ts`).
 */
export async function hostStandalone(): Promise<never> {
  const ticket = decodeTicket(Deno.args[1]);
  const key = await authkeyFromStdin(() => Deno.exit(1));
  watchParent(() => Deno.exit(1));
  const worker = new Worker(LINKED_ENTRY_URL, {
    type: "module",
    name: "deno-multiprocessing-child",
  });
  const { PortChannel } = await import("../transport/channel.ts");
  const port = new PortChannel(worker as unknown as MessagePortLike);
  worker.addEventListener("error", (e) => {
    e.preventDefault();
    console.error(`Process: ${e.message}`);
    Deno.exit(1);
  });
  await port.send({ op: "standalone", ticket, key });
  while (true) {
    const msg = await port.recv() as { op?: string; code?: number };
    if (msg?.op === "exit") Deno.exit(msg.code ?? 0);
  }
}

if (import.meta.main) {
  // No top-level await here: the target's module imports the library, which
  // imports this module; awaiting in its evaluation would deadlock that import.
  inWorker() ? workerMain() : subprocessMain();
}
