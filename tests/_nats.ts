// Test helper: real nats-servers, each on free loopback ports with its own
// JetStream store, ready when its health endpoint says so, stopped (or
// killed, or restarted on the same store) by pid. With no nats-server
// binary the cluster tests fail: they do not skip.

/** A running nats-server. */
export interface NatsServer extends AsyncDisposable {
  readonly url: string;
  readonly port: number;
  readonly monitorPort: number;
  readonly pid: number;
  /** Stops it: SIGTERM (a clean stop) or SIGKILL. Resolves once it has exited. */
  stop(signal?: "SIGTERM" | "SIGKILL"): Promise<void>;
  /** Starts it again on the same ports and store. */
  restart(): Promise<void>;
  /** Client connections it has now, from its monitor endpoint `/connz`. */
  connections(): Promise<number>;
}

/** Options of {@link startNats}. */
export interface NatsOptions {
  user?: string;
  pass?: string;
  /** A node of a JetStream cluster. */
  cluster?: { name: string; port: number; routes: number[]; node: string };
  /** The store (a fresh temp dir by default, removed on dispose). */
  storeDir?: string;
}

/** The nats-server binary: on PATH, or where Debian's package puts it. */
export function natsServerBinary(): string {
  for (const dir of (Deno.env.get("PATH") ?? "").split(":")) {
    try {
      if (Deno.statSync(`${dir}/nats-server`).isFile) return `${dir}/nats-server`;
    } catch {
      // Not there.
    }
  }
  return "/usr/sbin/nats-server";
}

/** A free TCP port on the loopback address. */
export function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

async function get(url: string): Promise<{ ok: boolean; body: string }> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(2_000) });
    return { ok: res.ok, body: await res.text() };
  } catch {
    return { ok: false, body: "" };
  }
}

/** Waits (at most `ms`) until `check` holds. */
async function until(check: () => Promise<boolean>, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`Timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function serverArgs(o: NatsOptions, port: number, monitorPort: number, store: string): string[] {
  const args = ["-a", "127.0.0.1", "-p", String(port), "-m", String(monitorPort), "-js"];
  args.push("-sd", store, "-P", `${store}/pid`, "-l", `${store}/log`);
  if (o.user) args.push("--user", o.user, "--pass", o.pass ?? "");
  const c = o.cluster;
  if (c) {
    args.push("-n", c.node, "--cluster_name", c.name, "--cluster", `nats://127.0.0.1:${c.port}`);
    args.push("--routes", c.routes.map((p) => `nats://127.0.0.1:${p}`).join(","));
  }
  return args;
}

/** Spawns the server; resolves once its health endpoint says it is ready. */
async function spawnServer(args: string[], monitorPort: number, clustered: boolean) {
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command(natsServerBinary(), {
      args,
      stdin: "null",
      stdout: "null",
      stderr: "null",
    }).spawn();
  } catch (err) {
    throw new Error(
      `Cannot start nats-server (the cluster tests need it: apt-get install nats-server): ${err}`,
    );
  }
  // A clustered node is healthy once it has joined the JetStream meta group.
  const health = clustered ? "/healthz" : "/healthz?js-enabled-only=true";
  const url = `http://127.0.0.1:${monitorPort}${health}`;
  await until(async () => (await get(url)).ok, 20_000, "nats-server");
  return child;
}

/** Starts a nats-server with JetStream; resolves once it reports healthy. */
export async function startNats(options: NatsOptions = {}): Promise<NatsServer> {
  const port = freePort();
  const monitorPort = freePort();
  const ownStore = options.storeDir === undefined;
  const store = options.storeDir ?? await Deno.makeTempDir({ prefix: "mp-nats-" });
  const args = serverArgs(options, port, monitorPort, store);
  let child = await spawnServer(args, monitorPort, options.cluster !== undefined);
  let running = true;
  const server: NatsServer = {
    url: `nats://127.0.0.1:${port}`,
    port,
    monitorPort,
    get pid() {
      return child.pid;
    },
    async stop(signal = "SIGTERM") {
      if (!running) return;
      running = false;
      try {
        Deno.kill(child.pid, signal);
      } catch {
        // Gone already.
      }
      await child.status;
    },
    async restart() {
      await server.stop();
      child = await spawnServer(args, monitorPort, options.cluster !== undefined);
      running = true;
    },
    async connections() {
      const { body } = await get(`http://127.0.0.1:${monitorPort}/connz`);
      return (JSON.parse(body) as { num_connections: number }).num_connections;
    },
    async [Symbol.asyncDispose]() {
      await server.stop();
      if (ownStore) await Deno.remove(store, { recursive: true }).catch(() => {});
    },
  };
  return server;
}

/** Waits until the server has no client connection left (1 s at most), and says how many remain. */
export async function connectionsLeft(server: NatsServer): Promise<number> {
  const end = Date.now() + 1_000;
  let n = await server.connections();
  while (n > 0 && Date.now() < end) {
    await new Promise((r) => setTimeout(r, 20));
    n = await server.connections();
  }
  return n;
}

/** Three nats-servers clustered with JetStream (each its own store). */
export async function startNatsCluster(n = 3): Promise<NatsServer[] & AsyncDisposable> {
  const name = `mp${Math.random().toString(36).slice(2, 8)}`;
  const ports = Array.from({ length: n }, () => freePort());
  const servers = await Promise.all(ports.map((port, i) =>
    startNats({
      cluster: { name, port, routes: ports.filter((_, j) => j !== i), node: `n${i}` },
    })
  ));
  return Object.assign(servers, {
    async [Symbol.asyncDispose]() {
      for (const s of servers) await s[Symbol.asyncDispose]();
    },
  });
}

/** A random cluster name, so that tests sharing a server never meet. */
export function clusterName(): string {
  return `t${Math.random().toString(36).slice(2, 10)}`;
}

/** A random 32-byte authkey, as hex. */
export function newKey(): string {
  return Array.from(
    crypto.getRandomValues(new Uint8Array(32)),
    (b) => b.toString(16).padStart(2, "0"),
  )
    .join("");
}
