// What bench/cluster_throughput.ts runs on: a nats-server and a
// redis-server of its own (free loopback ports, temp dirs), worker agents as
// programs, and the BullMQ peer. (The task functions are in _cluster_tasks.ts.)

/** The repository root (the agents' code root). */
export const ROOT: string = decodeURIComponent(new URL("..", import.meta.url).pathname);
const NODE_DIR = `${ROOT}bench/node/`;

function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

function which(name: string): string {
  for (const dir of [...(Deno.env.get("PATH") ?? "").split(":"), "/usr/sbin", "/usr/bin"]) {
    try {
      if (Deno.statSync(`${dir}/${name}`).isFile) return `${dir}/${name}`;
    } catch {
      // Not there.
    }
  }
  throw new Error(`${name} is not installed (apt-get install ${name})`);
}

/** A server process of the bench's own, stopped (and its dir removed) on dispose. */
export interface Server extends AsyncDisposable {
  url: string;
  port: number;
}

async function ready(check: () => Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 400; i++) {
    if (await check().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`${what} did not start`);
}

function serve(cmd: string, args: string[], dir: string, port: number, url: string) {
  const child = new Deno.Command(cmd, { args, stdin: "null", stdout: "null", stderr: "null" })
    .spawn();
  return {
    child,
    server: {
      url,
      port,
      async [Symbol.asyncDispose]() {
        child.kill("SIGTERM");
        await child.status;
        await Deno.remove(dir, { recursive: true }).catch(() => {});
      },
    } as Server,
  };
}

/** A nats-server with JetStream on a file store. */
export async function startNats(): Promise<Server> {
  const dir = await Deno.makeTempDir({ prefix: "mp-bench-nats-" });
  const [port, monitor] = [freePort(), freePort()];
  const args = ["-a", "127.0.0.1", "-p", `${port}`, "-m", `${monitor}`, "-js", "-sd", dir];
  const { server } = serve(which("nats-server"), args, dir, port, `nats://127.0.0.1:${port}`);
  const health = `http://127.0.0.1:${monitor}/healthz?js-enabled-only=true`;
  await ready(() => fetch(health).then((r) => (r.body?.cancel(), r.ok)), "nats-server");
  return server;
}

/** A redis-server without persistence. */
export async function startRedis(): Promise<Server> {
  const dir = await Deno.makeTempDir({ prefix: "mp-bench-redis-" });
  const port = freePort();
  const args = ["--port", `${port}`, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"];
  args.push("--dir", dir);
  const { server } = serve(which("redis-server"), args, dir, port, `127.0.0.1:${port}`);
  const ping = async () => {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port });
    conn.close();
    return true;
  };
  await ready(ping, "redis-server");
  return server;
}

/** A worker agent program (cluster/worker.ts). */
export interface Agent extends AsyncDisposable {
  child: Deno.ChildProcess;
  /** Its pool workers' pids. */
  workers: number[];
}

function childrenOf(pid: number): number[] {
  const out: number[] = [];
  for (const e of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(e.name)) continue;
    try {
      const stat = Deno.readTextFileSync(`/proc/${e.name}/stat`);
      if (Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]) === pid) {
        out.push(Number(e.name));
      }
    } catch {
      // Gone meanwhile.
    }
  }
  return out;
}

/** Starts an agent; resolves once it serves. */
export async function startAgent(nats: Server, name: string, authkey: string, flags: string[]) {
  const args = ["run", "-A", `${ROOT}cluster/worker.ts`, "--servers", nats.url, "--name", name];
  args.push("--root", ROOT, "--modules", `${ROOT}bench/`, ...flags);
  const child = new Deno.Command(Deno.execPath(), {
    args,
    env: { MP_AUTHKEY: authkey },
    stdin: "null",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  const { value } = await reader.read();
  reader.cancel().catch(() => {});
  if (!value?.startsWith("agent ")) throw new Error(`The agent did not start: ${value}`);
  const agent: Agent = {
    child,
    workers: childrenOf(child.pid),
    async [Symbol.asyncDispose]() {
      try {
        child.kill("SIGKILL");
      } catch {
        // Gone already.
      }
      await child.status;
    },
  };
  return agent;
}

/** Installs bullmq under bench/node where it is missing. */
export async function ensureBullmq(): Promise<void> {
  try {
    await Deno.stat(`${NODE_DIR}node_modules/bullmq/package.json`);
    return;
  } catch {
    // Missing: install.
  }
  console.error(`Installing bullmq: npm install --prefix ${NODE_DIR} --no-save bullmq@5`);
  const out = await new Deno.Command("npm", {
    args: ["install", "--prefix", NODE_DIR, "--no-save", "--no-fund", "--no-audit", "bullmq@5"],
    stdin: "null",
    stdout: "null",
    signal: AbortSignal.timeout(180_000),
  }).output();
  if (!out.success) throw new Error("npm install bullmq failed");
}

/** What the BullMQ peer prints. */
export interface BullResult {
  tasks: number;
  elapsed_ms: number;
  sum: number;
  per_call_ms: number;
  version: string;
  bullmq: string;
}

/** Runs the BullMQ peer once. */
export async function runBullmq(redis: Server, flags: string[]): Promise<BullResult> {
  const out = await new Deno.Command("node", {
    args: [`${NODE_DIR}bullmq_throughput.mjs`, "--redis", redis.url, ...flags],
    stdin: "null",
    stdout: "piped",
    stderr: "inherit",
    signal: AbortSignal.timeout(300_000),
  }).output();
  if (!out.success) throw new Error(`The BullMQ peer exited with ${out.code}`);
  return JSON.parse(new TextDecoder().decode(out.stdout));
}
