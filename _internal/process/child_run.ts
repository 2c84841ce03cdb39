/**
 * What every child runs, however its task came (`child.ts` for a child
 * started cold, `child_linked.ts` for one that takes its task over a
 * channel): it becomes the child its task describes, imports its target,
 * runs it and exits as Python's children do.
 *
 * @module
 */

import type { Channel } from "../transport/channel.ts";
import { type RuntimeState, state } from "../base/state.ts";
import { type Launch, type LaunchKeyMessage, readLaunchKey } from "./launch_key.ts";
import { logger } from "../base/log.ts";
import { type Family, familyOf, type TaskSpec } from "./task_spec.ts";
import { type AnyFn, locateTarget } from "./target.ts";
import { type Exit, WorkerExit } from "./worker_exit.ts";
import { CURRENT_SPEC, PROCESS_BRAND } from "../base/symbols.ts";

/**
 * Reads the child's key (length-prefixed: `launch_key.ts`) from stdin:
 * with `blocking`, with blocking reads, for a child that has nothing else
 * to do meanwhile (a fresh process's first asynchronous read of stdin took
 * 0.3 ms, a blocking one 0.06 ms). `onParentGone` runs when stdin ends
 * first.
 */
export async function authkeyFromStdin(
  onParentGone: () => void,
  blocking = false,
): Promise<Launch> {
  const got = await readLaunchKey(
    blocking ? (p) => Promise.resolve(Deno.stdin.readSync(p)) : (p) => Deno.stdin.read(p),
  );
  if (!got) onParentGone();
  return got!;
}

/**
 * Watches stdin for EOF once the key is read: the parent never writes
 * again, so EOF means it is gone, however it died. A child started cold
 * starts this once its target's import is under way: the first
 * asynchronous read (0.2 ms of a fresh process) then overlaps the load.
 */
export function watchParent(onParentGone: () => void): void {
  (async () => {
    const sink = new Uint8Array(64);
    while ((await Deno.stdin.read(sink)) !== null) { /* the parent writes nothing more */ }
    onParentGone();
  })();
}

/**
 * What Python does at a child's exit: join non-daemonic children, terminate
 * daemonic ones, flush buffered queue data.
 */
async function beforeExit(s: RuntimeState): Promise<void> {
  for (const c of [...s.children]) if (c.daemon && c.isAlive()) c.terminate();
  for (const c of [...s.children]) if (!c.daemon) await c.join().catch(() => {});
  // A hook may add hooks (a connection that was opening registers its flush).
  const done = new Set<unknown>();
  for (let pass = 0; pass < 10; pass++) {
    const hooks = [...s.exitHooks].filter((h) => !done.has(h));
    if (hooks.length === 0) break;
    for (const hook of hooks) {
      done.add(hook);
      await Promise.resolve(hook()).catch(() => {});
    }
  }
  // Everything is written: hang up, so the hosts read to the end and close.
  // (Through the registry: the child entry does not load the object server.)
  s.closeClients?.();
}

/**
 * Becomes the child `spec` describes and starts importing its target's
 * module. A subprocess child does this from its ticket, while it connects
 * back and fetches its arguments: the import overlaps the handshake.
 */
export function bootstrap(spec: TaskSpec, key: LaunchKeyMessage): Promise<AnyFn> {
  const s = state();
  joinFamily(familyOf(spec));
  Object.assign(s, {
    name: spec.name,
    identity: spec.identity,
    daemon: spec.daemon,
    // A sandboxed child holds a key derived for it alone (its id says which).
    authkey: key.key,
    kid: key.kid,
    ident: s.isWorker ? `${Deno.pid}/${spec.identity.join(":")}` : String(Deno.pid),
    // Not a spare's, made while it imported modules ahead of this task.
    current: undefined,
  });
  if (spec.log) logger().toStderr(spec.log);
  if (spec.kind === "none") return Promise.resolve(() => {});
  return importing(import(spec.module).then((mod) => locateTarget(mod, spec)));
}

/**
 * `imported`, with this child bootstrapping until it settles: a module
 * that starts a process at its top level is refused (`process.ts`).
 */
export function importing<T>(imported: Promise<T>): Promise<T> {
  const s = state();
  s.bootstrapping = true;
  imported.catch(() => {}).finally(() => (s.bootstrapping = false));
  return imported;
}

/** Takes on the context every child of the parent shares. */
export function joinFamily(f: Family): void {
  Object.assign(state(), {
    parent: f.parent,
    isChild: true,
    mainModule: f.mainModule,
    runtimeArgs: f.runtimeArgs,
    transport: f.transport,
    startMethod: f.startMethod,
  });
  setArgs(f.argv ?? []);
}

/**
 * The parent's `Deno.args`, as Python's children get the parent's
 * `sys.argv`: set before the target's module is imported, so that code
 * reading them at its top level sees them too (a subprocess child's own
 * arguments are its ticket, which it must not see as its parent's).
 */
export function setArgs(argv: string[]): void {
  const args = [...argv]; // As Deno's own: one array, not frozen.
  Object.defineProperty(Deno, "args", { get: () => args, configurable: true, enumerable: true });
}

/**
 * The child's own instance of an exported `Process` subclass, as Python
 * unpickles one: made by the library's `Process` constructor alone (the
 * class that owns the brand: a subclass only inherits it), so the user's
 * constructor and field initialisers do not run again here, then given the
 * parent's own enumerable fields.
 */
function instanceOf(target: AnyFn, spec: TaskSpec): { run(): unknown } {
  let base: AnyFn | null = target;
  while (base && !Object.hasOwn(base, PROCESS_BRAND)) base = Object.getPrototypeOf(base);
  if (!base) throw new TypeError(`Cannot start ${spec.exportName}: it is not a Process subclass`);
  const self = Reflect.construct(base, [{ [CURRENT_SPEC]: spec }], target);
  return Object.assign(self, spec.fields);
}

/**
 * Takes the access a task brings to the hosts of its handles, and revives
 * the handles in its arguments and fields (`child_linked.ts`): given to
 * {@link runChild} by the entries that run tasks with handles.
 */
export type TakeHandles = (
  spec: Pick<TaskSpec, "access" | "handles" | "args" | "fields">,
) => Promise<void>;

/** Runs a task in this (child) isolate; never returns. */
export async function runChild(
  channel: Pick<Channel, "send">,
  spec: TaskSpec,
  key: LaunchKeyMessage,
  exit: Exit,
  importing: Promise<AnyFn> = bootstrap(spec, key),
  takeHandles?: TakeHandles,
): Promise<never> {
  const s = state();
  let target: AnyFn;
  try {
    target = await importing;
    if (spec.handles !== undefined || spec.access !== undefined) {
      // The parent starts a task with handles at an entry that takes them.
      if (!takeHandles) throw new TypeError("Cannot start: this child entry takes no handles");
      await takeHandles(spec);
    }
  } catch (err) {
    const { errorToData } = await import("../wire/error_data.ts");
    await channel.send({ op: "failed", error: errorToData(err) }).catch(() => {});
    return await exit(1);
  }
  await channel.send({ op: "started" });
  // A child that reports (a manager's address) does so over its launch channel only.
  if (spec.report) s.report = (value) => channel.send({ op: "report", value });
  logger().debug(
    `running ${spec.kind === "none" ? "nothing" : `${spec.module}#${spec.exportName}`}`,
  );
  let code = 0;
  try {
    if (spec.kind === "class") {
      const self = instanceOf(target, spec);
      s.current = self;
      await self.run();
    } else {
      await target(...spec.args);
    }
  } catch (err) {
    if (err instanceof WorkerExit) return await exit(err.code);
    console.error(
      `Process ${spec.name}:\n${
        err instanceof Error
          ? err.stack
          : `${spec.module}#${spec.exportName} threw a non-Error value: ${Deno.inspect(err)}`
      }`,
    );
    code = 1;
  }
  await beforeExit(s);
  logger().debug(`exiting with code ${code}`);
  return await exit(code);
}
