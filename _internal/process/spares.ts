/**
 * Warm spares, Python's forkserver idea done Deno's way: children already
 * started, with the library's child entry loaded (a subprocess connected
 * back and proven, a thread waiting for its first message), kept per start
 * method. A start takes the next spare and hands it its task, and a new
 * spare is started in the background, which imports, while it waits, the
 * modules of the last targets started on spares.
 *
 * A spare runs with the context's defaults (all the permissions this
 * process holds, its runtime flags): a start that asks for others starts
 * cold. Spares are unref'd (they never keep a program alive), are not
 * `Process` objects (never in `activeChildren()`), and end with their
 * parent like any child (their stdin's end-of-file, the reaper), and at
 * once at exit.
 *
 * @module
 */

import { isolateGlobal, type StartMethod, state } from "../base/state.ts";
import { keepAlive } from "../base/async.ts";
import type { LaunchOptions, Popen } from "./popen.ts";
import { type Connected, handOver, spawnConnected } from "./popen_subprocess.ts";
import { handOverThread, rehearseThread, spawnThread, type WorkerPopen } from "./popen_worker.ts";
import { ensureReaper } from "./reaper.ts";
import { familyOf, type Preload, type TaskSpec } from "./task_spec.ts";
import { reviverModules } from "../hub/handles.ts";

type Spare = { kind: "subprocess"; c: Connected } | { kind: "worker"; p: WorkerPopen };

interface Spares {
  want: number;
  ready: Spare[];
  starting: number;
  /** Spares that died unclaimed in a row: after a few, no more are started. */
  failures: number;
  /** The runtime flags the spares were started with. */
  runtimeArgs: string[];
  /** How many were taken by a start. */
  taken: number;
  /** Timers of refills to come (see {@link launchWarm}). */
  timers: Set<ReturnType<typeof setTimeout>>;
  /** What a new spare imports while it waits (see {@link learnPreload}). */
  preload: Preload | undefined;
  /** Starts under way: each settles once its spare is ready, or killed and gone. */
  inFlight: Set<Promise<unknown>>;
}

const MAX_FAILURES = 3;

/** A taken spare is replaced once its child has exited, or after this many ms. */
const REFILL_AFTER_MS = 100;

function spares(method: StartMethod): Spares {
  const all = isolateGlobal("spares", () => {
    globalThis.addEventListener("unload", () => {
      for (const m of ["subprocess", "worker"] as const) all[m].ready.splice(0).forEach(kill);
    });
    const make = (): Spares => ({
      want: 0,
      ready: [],
      starting: 0,
      failures: 0,
      runtimeArgs: [],
      taken: 0,
      timers: new Set(),
      preload: undefined,
      inFlight: new Set(),
    });
    return { subprocess: make(), worker: make() };
  });
  return all[method];
}

function popenOf(s: Spare): Popen {
  return s.kind === "subprocess" ? s.c.popen : s.p;
}

function kill(s: Spare): void {
  if (s.kind === "subprocess") s.c.channel.close();
  popenOf(s).kill();
}

async function startOne(method: StartMethod): Promise<Spare> {
  const opts = { name: "spare", permissions: "inherit" as const, runtimeArgs: state().runtimeArgs };
  const { preload } = spares(method);
  if (method === "worker") {
    const p = await spawnThread(opts, [0]);
    await rehearseThread(p, preload);
    return { kind: "worker", p };
  }
  await ensureReaper();
  const c = await spawnConnected(opts);
  c.channel.unref();
  // Rehearsed and imported while it waits; its task, sent later on the same channel, after.
  c.channel.send({ op: "warm", ...(preload ? { preload } : {}) }).catch(() => {});
  return { kind: "subprocess", c };
}

/** Modules a spare imports ahead of its task, at most: the last targets' on spares. */
const PRELOAD_MODULES = 4;

/**
 * Notes the module of a task started on a spare: the spares started from
 * now on import it while they wait (newest first), as Python's forkserver
 * imports the main module once, so that a program starting children of
 * one module finds it loaded. Only a module a child of this parent was
 * given to import anyway; a spare imports it as that child did
 * (`child_run.ts`: its parent's context, a start at its top level refused).
 * The library's modules that revive the task's handles come with it.
 */
function learnPreload(s: Spares, spec: TaskSpec): void {
  const modules = s.preload?.modules ?? [];
  const targets = spec.kind === "none"
    ? modules
    : [spec.module, ...modules.filter((m) => m !== spec.module)].slice(0, PRELOAD_MODULES);
  // And the library's modules that revive the handles it was given (a
  // target module may import their classes as types only).
  const library = new Set([
    ...reviverModules(spec.args, spec.handles?.args),
    ...reviverModules(spec.fields, spec.handles?.fields),
    ...(s.preload?.library ?? []),
  ]);
  s.preload = { modules: targets, library: [...library], family: familyOf(spec) };
}

/** Starts spares until `want` are ready or starting. */
function refill(method: StartMethod): void {
  const s = spares(method);
  while (s.ready.length + s.starting < s.want && s.failures < MAX_FAILURES) {
    s.starting++;
    const started = startOne(method).then((spare) => {
      s.starting--;
      popenOf(spare).setRef(false);
      if (s.ready.length >= s.want) {
        kill(spare);
        return popenOf(spare).exited;
      }
      s.ready.push(spare);
      // One that dies before it is claimed is replaced, a few times at most.
      popenOf(spare).exited.then(() => {
        const i = s.ready.indexOf(spare);
        if (i < 0) return;
        s.ready.splice(i, 1);
        s.failures++;
        refill(method);
      });
      return undefined;
    }, () => {
      s.starting--;
      s.failures++;
    });
    s.inFlight.add(started);
    started.finally(() => s.inFlight.delete(started));
  }
}

/**
 * Keeps `count` spares of a start method ready (0 stops them); resolves
 * once those over the count have exited, and the starts under way have
 * ended (those no longer wanted killed and gone).
 */
export async function setWarm(
  method: StartMethod,
  count: number,
  runtimeArgs: readonly string[] = state().runtimeArgs,
): Promise<void> {
  const s = spares(method);
  s.want = count;
  s.failures = 0;
  for (const t of s.timers) clearTimeout(t);
  s.timers.clear();
  s.runtimeArgs = [...runtimeArgs];
  const extra = s.ready.splice(count);
  extra.forEach(kill);
  refill(method);
  // A wait: it holds the program (the spares themselves do not).
  await Promise.all([...extra.map((x) => popenOf(x).exited), ...s.inFlight]).finally(keepAlive());
}

/** How many spares of a start method are ready. */
export function sparesReady(method: StartMethod): number {
  return spares(method).ready.length;
}

/** How many spares of a start method starts have taken so far. */
export function sparesTaken(method: StartMethod): number {
  return spares(method).taken;
}

/**
 * Starts a child on a spare when one is ready and the child asks for the
 * defaults; undefined when it must start cold.
 */
export function launchWarm(
  method: StartMethod,
  opts: LaunchOptions,
  daemon: boolean,
): Promise<Popen> | undefined {
  const s = spares(method);
  const defaults = opts.permissions === "inherit" &&
    opts.runtimeArgs.join("\0") === s.runtimeArgs.join("\0");
  if (!defaults) return undefined;
  const spare = s.ready.shift();
  if (!spare) return undefined;
  s.taken++;
  learnPreload(s, opts.spec);
  const started = spare.kind === "subprocess"
    ? handOver(spare.c, opts, daemon)
    : handOverThread(spare.p, opts, daemon);
  // Not at once: starting a child blocks this thread (measured: creating a
  // node:worker_threads Worker 22-40 ms, a Web Worker 7-27 ms, a spawn a few
  // ms), which the start the spare was for, or its join, would pay. After
  // the child it started has exited, or 100 ms.
  let refilled = false;
  const schedule = (ms: number) => {
    // Spares stopped meanwhile (setWarm(…, 0)): nothing to refill, and a
    // timer armed now would outlive them.
    if (refilled || s.want === 0) return;
    const t = setTimeout(later, ms);
    Deno.unrefTimer(t);
    s.timers.add(t);
  };
  const later = () => {
    if (refilled) return;
    refilled = true;
    for (const t of s.timers) clearTimeout(t);
    s.timers.clear();
    refill(method);
  };
  schedule(REFILL_AFTER_MS);
  started.then((popen) => popen.exited).then(() => schedule(0), () => schedule(0));
  return started;
}
