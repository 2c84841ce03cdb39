// Shared test helpers: run a behaviour test once per start method, find the
// fixtures, and make children resolve modules the way this test run does.
import { setRuntimeArgs } from "../context.ts";
import { Process, type StartMethod } from "../process.ts";

/** The start methods every behaviour test runs under. */
export const START_METHODS: readonly StartMethod[] = ["subprocess", "worker"];

/** URL of the targets fixture module. */
export const TARGETS: string = new URL("./fixtures/targets.ts", import.meta.url).href;

/** Path of a fixture file. */
export function fixturePath(name: string): string {
  return new URL(`./fixtures/${name}`, import.meta.url).pathname;
}

/** A fixture program started with piped stdout, and the first line it printed. */
export interface Started {
  child: Deno.ChildProcess;
  line: string;
  /** What it printed after that line, read along with it. */
  more: string;
  /** The rest of its stdout: cancel it once done. */
  stdout: ReadableStreamDefaultReader<string>;
}

/**
 * Starts `deno run -A <fixture> ...args` (stderr inherited) and resolves
 * once it has printed its first line.
 */
export async function startFixture(
  name: string,
  args: string[] = [],
  options: { env?: Record<string, string> } = {},
): Promise<Started> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", fixturePath(name), ...args],
    stdout: "piped",
    stderr: "inherit",
    stdin: "null",
    env: options.env,
  }).spawn();
  const stdout = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let line = "";
  while (!line.includes("\n")) {
    const { value, done } = await stdout.read();
    if (done) break;
    line += value;
  }
  const at = line.indexOf("\n");
  return {
    child,
    line: line.slice(0, at < 0 ? line.length : at),
    more: line.slice(at + 1),
    stdout,
  };
}

/** Children started together: join them all, or dispose of them (terminating any still running). */
export interface Children extends AsyncDisposable {
  readonly procs: Process[];
  /** Joins every child; resolves their exit codes, in order. */
  join(): Promise<(number | null)[]>;
}

/**
 * Starts `n` children running `target`, each with `args` (or `args(i)`),
 * from `module`, on `startMethod`.
 */
export async function startChildren(
  n: number,
  // deno-lint-ignore no-explicit-any
  target: (...args: any[]) => unknown,
  args: unknown[] | ((i: number) => unknown[]),
  options: { module: string; startMethod: StartMethod },
): Promise<Children> {
  const procs = Array.from({ length: n }, (_, i) =>
    new Process({
      target,
      args: typeof args === "function" ? args(i) : args,
      module: options.module,
      startMethod: options.startMethod,
    }));
  const children: Children = {
    procs,
    async join() {
      for (const p of procs) await p.join();
      return procs.map((p) => p.exitCode);
    },
    async [Symbol.asyncDispose]() {
      for (const p of procs) await p[Symbol.asyncDispose]();
    },
  };
  try {
    for (const p of procs) await p.start();
  } catch (err) {
    await children[Symbol.asyncDispose]();
    throw err;
  }
  return children;
}

// Offline, the suite runs under --import-map=.ci/std/import_map.json; a
// `deno run` child does not inherit that flag, so pass it on (DESIGN §3.8).
const assertUrl = import.meta.resolve("@std/assert");
if (assertUrl.startsWith("file:") && assertUrl.includes("/.ci/std/")) {
  setRuntimeArgs([
    `--import-map=${new URL("../.ci/std/import_map.json", import.meta.url).pathname}`,
  ]);
}

/** Registers `fn` once per start method, named `name [method]`. */
export function testBoth(
  name: string,
  fn: (method: StartMethod) => Promise<void>,
  options: { ignore?: boolean } = {},
): void {
  for (const method of START_METHODS) {
    Deno.test({
      name: `${name} [${method}]`,
      ignore: options.ignore,
      fn: () => fn(method),
    });
  }
}

/** A fresh temp directory, removed on dispose. */
export async function tempDir(): Promise<{ path: string } & AsyncDisposable> {
  const path = await Deno.makeTempDir({ prefix: "mp-test-" });
  return {
    path,
    async [Symbol.asyncDispose]() {
      await Deno.remove(path, { recursive: true });
    },
  };
}

/**
 * Runs `deno run <flags> <script> ...args` and returns its output; the
 * flags default to `-A`.
 */
export async function denoRun(
  args: string[],
  options: { env?: Record<string, string>; flags?: string[] } = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", ...(options.flags ?? ["-A"]), ...runtimeArgsForScripts(), ...args],
    stdin: "null",
    env: options.env,
  }).output();
  const dec = new TextDecoder();
  return {
    code: out.code,
    stdout: dec.decode(out.stdout),
    stderr: dec.decode(out.stderr),
  };
}

function runtimeArgsForScripts(): string[] {
  return assertUrl.includes("/.ci/std/")
    ? [
      `--import-map=${new URL("../.ci/std/import_map.json", import.meta.url).pathname}`,
    ]
    : [];
}

/** Whether a pid is a live process (not a zombie). */
export function pidAlive(pid: number): boolean {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    return !/^\d+ \(.*\) Z/.test(stat);
  } catch {
    return false;
  }
}

/** Every live descendant of `pid` (children of all its threads, recursively), from /proc. */
export function descendants(pid: number): number[] {
  const out: number[] = [];
  const visit = (p: number) => {
    let tasks: string[];
    try {
      tasks = [...Deno.readDirSync(`/proc/${p}/task`)].map((t) => t.name);
    } catch {
      return;
    }
    for (const t of tasks) {
      let list = "";
      try {
        list = Deno.readTextFileSync(`/proc/${p}/task/${t}/children`).trim();
      } catch { /* the thread ended */ }
      for (const c of list ? list.split(" ").map(Number) : []) {
        out.push(c);
        visit(c);
      }
    }
  };
  visit(pid);
  return out;
}

/**
 * Polls until none of `pids` is alive (zombies count as gone); the pids
 * still alive after `guardMs` (a guard against hangs, not a timing).
 */
export async function survivors(pids: number[], guardMs = 15_000): Promise<number[]> {
  const deadline = performance.now() + guardMs;
  let alive = pids.filter(pidAlive);
  while (alive.length > 0 && performance.now() < deadline) {
    await new Promise((r) => setTimeout(r, 25));
    alive = alive.filter(pidAlive);
  }
  return alive;
}

/**
 * `p`, or a rejection naming `what` once `ms` pass without it settling: a
 * broken wait fails its test instead of hanging it (a guard, not a timing).
 */
export async function hangGuard<T>(p: Promise<T>, ms: number, what = "the wait"): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer after ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([p, late]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Whether `wait` is still pending when a timer of `ms`, started after it,
 * fires: order, not time (a timed wait of longer than `ms` that gave up at
 * once, or never waited, settles first).
 */
export async function outlasts(wait: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const marker = new Promise<true>((r) => (timer = setTimeout(() => r(true), ms)));
  const settled = wait.then(() => false, () => false);
  try {
    return await Promise.race([settled, marker]);
  } finally {
    clearTimeout(timer);
  }
}
