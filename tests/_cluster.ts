// Cluster test helpers: a nats-server of its own per test, a connected
// cluster (and, unless told not to, an agent in this process), and on
// dispose the check that no client connection is left on the server.
import { assertEquals } from "@std/assert";
import { Cluster, type ClusterAgent, type ClusterOptions, type ServeOptions } from "../cluster.ts";
import {
  clusterName,
  connectionsLeft,
  type NatsOptions,
  type NatsServer,
  newKey,
  startNats,
} from "./_nats.ts";

/** The repository root: the code root of every cluster test. */
export const ROOT: string = new URL("..", import.meta.url).pathname;

/** URL of the cluster tests' task module. */
export const TARGETS: string = new URL("./fixtures/cluster_targets.ts", import.meta.url).href;

/** The folder agents may import from in the tests. */
export const FIXTURES: string = new URL("./fixtures/", import.meta.url).href;

/** What a cluster test works with. */
export interface Env extends AsyncDisposable {
  nats: NatsServer;
  cluster: Cluster;
  agent: ClusterAgent | undefined;
  name: string;
  authkey: string;
  /** Connects another client to the same cluster (closed with the rest). */
  connect(extra?: Partial<ClusterOptions>): Promise<Cluster>;
}

/** Options of {@link setup}. */
export interface SetupOptions {
  /** The agent in this process; `false` for none. @default {processes: 2, startMethod: "worker"} */
  agent?: ServeOptions | false;
  nats?: NatsOptions;
  /** Settings and credentials of the test's connection. */
  connect?: Partial<ClusterOptions>;
  /** An existing server (then not stopped on dispose). */
  server?: NatsServer;
}

/**
 * A nats-server, a cluster on it, and an agent in this process. Disposing
 * closes every client, checks on the server that none is left connected,
 * and stops the server.
 */
export async function setup(options: SetupOptions = {}): Promise<Env> {
  const nats = options.server ?? await startNats(options.nats);
  const name = clusterName();
  const authkey = newKey();
  const clients: Cluster[] = [];
  const connect = async (extra: Partial<ClusterOptions> = {}) => {
    const c = await Cluster.connect({
      servers: nats.url,
      name,
      authkey,
      root: ROOT,
      ...options.connect,
      ...extra,
    });
    clients.push(c);
    return c;
  };
  try {
    const cluster = await connect();
    const agent = options.agent === false ? undefined : await cluster.serve({
      processes: 2,
      startMethod: "worker",
      modules: [FIXTURES],
      ...options.agent,
    });
    return {
      nats,
      cluster,
      agent,
      name,
      authkey,
      connect,
      async [Symbol.asyncDispose]() {
        for (const c of clients.reverse()) await c.close();
        assertEquals(await connectionsLeft(nats), 0, "a client connection was left on the server");
        if (!options.server) await nats[Symbol.asyncDispose]();
      },
    };
  } catch (err) {
    for (const c of clients) await c.close();
    if (!options.server) await nats[Symbol.asyncDispose]();
    throw err;
  }
}

/** Runs `fn` and fails (instead of hanging) after `ms`. */
export async function within<T>(ms: number, what: string, fn: () => Promise<T>): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no outcome after ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([fn(), late]);
  } finally {
    clearTimeout(timer);
  }
}

/** A worker agent as its own `deno run` program (the worker command). */
export interface AgentProgram extends AsyncDisposable {
  child: Deno.ChildProcess;
  /** Its first line: "agent <id> serving …". */
  line: string;
  id: string;
  /** Pids of its pool workers (subprocess start method), read from /proc. */
  workers(): number[];
  kill(signal?: Deno.Signal): Promise<void>;
}

/** Reads a child's stdout up to its first line, then lets the rest go. */
async function firstLine(child: Deno.ChildProcess): Promise<string> {
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  while (!text.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) break;
    text += value;
  }
  reader.cancel().catch(() => {});
  return text.split("\n")[0];
}

/** Starts `cluster/worker.ts` with `args` and MP_AUTHKEY=`authkey`; resolves once it serves. */
export async function startAgent(
  env: { nats: NatsServer; name: string; authkey: string },
  args: string[] = [],
  extraEnv: Record<string, string> = {},
): Promise<AgentProgram> {
  const command = [`${ROOT}cluster/worker.ts`, "--servers", env.nats.url, "--name", env.name];
  command.push("--root", ROOT, "--modules", FIXTURES, ...args);
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", ...command],
    env: { MP_AUTHKEY: env.authkey, ...extraEnv },
    stdin: "null",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const line = await firstLine(child);
  let status: Deno.CommandStatus | undefined;
  const exited = child.status.then((s) => (status = s));
  const kill = async (signal: Deno.Signal = "SIGTERM") => {
    if (!status) {
      try {
        child.kill(signal);
      } catch {
        // Exited meanwhile.
      }
    }
    await exited;
  };
  return {
    child,
    line,
    id: /^agent (\S+)/.exec(line)?.[1] ?? "",
    // Children that carry a ticket: its pool workers (not, say, the
    // short-lived launcher of its reaper).
    workers: () => childrenOf(child.pid).filter(isChildEntry),
    kill,
    async [Symbol.asyncDispose]() {
      await kill("SIGKILL");
    },
  };
}

/** Whether process `pid` is a child the library started (its command line holds a ticket). */
function isChildEntry(pid: number): boolean {
  try {
    return Deno.readTextFileSync(`/proc/${pid}/cmdline`).includes('{"ppid":');
  } catch {
    return false;
  }
}

/** Pids of the live children of `pid`. */
export function childrenOf(pid: number): number[] {
  const out: number[] = [];
  for (const e of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(e.name)) continue;
    try {
      const stat = Deno.readTextFileSync(`/proc/${e.name}/stat`);
      const [state, ppid] = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (Number(ppid) === pid && state !== "Z") out.push(Number(e.name));
    } catch {
      // Gone meanwhile.
    }
  }
  return out;
}
