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

/** A free TCP port on the loopback address (for a cluster's route ports, which must be known in advance). */
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

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A nats-server that exited before it was ready; `log` is the end of its log. */
export class ServerExitedError extends Error {
  constructor(readonly log: string) {
    super(`nats-server exited before it was ready; its log ends:\n${log}`);
  }
}

/** The last lines of a server's log file. */
function logTail(store: string): string {
  try {
    return Deno.readTextFileSync(`${store}/log`).trimEnd().split("\n").slice(-5).join("\n");
  } catch {
    return "(no log)";
  }
}

function serverArgs(o: NatsOptions, store: string, ports?: Ports): string[] {
  // Ports of -1 are the server's own choice (it binds them, then writes them
  // to its ports file): no port is picked here and lost to another socket
  // before the server binds it. A restart asks for the same ports again.
  const [port, monitor] = ports ? [ports.port, ports.monitorPort] : [-1, -1];
  const args = ["-a", "127.0.0.1", "-p", String(port), "-m", String(monitor), "-js"];
  args.push("-sd", store, "-P", `${store}/pid`, "-l", `${store}/log`, "--ports_file_dir", store);
  if (o.user) args.push("--user", o.user, "--pass", o.pass ?? "");
  const c = o.cluster;
  if (c) {
    args.push("-n", c.node, "--cluster_name", c.name, "--cluster", `nats://127.0.0.1:${c.port}`);
    args.push("--routes", c.routes.map((p) => `nats://127.0.0.1:${p}`).join(","));
  }
  return args;
}

interface Ports {
  port: number;
  monitorPort: number;
}

/** The ports the server with `pid` bound, from its ports file once written. */
function readPorts(store: string, pid: number): Ports | undefined {
  try {
    const file = JSON.parse(Deno.readTextFileSync(`${store}/nats-server_${pid}.ports`));
    const port = (url: string) => Number(new URL(url).port);
    return { port: port(file.nats[0]), monitorPort: port(file.monitoring[0]) };
  } catch {
    return undefined;
  }
}

/**
 * Spawns the server; resolves once its health endpoint says it is ready.
 * A server that exits first (a port taken, a bad store) rejects at once
 * with {@link ServerExitedError}; one not ready in 20 s is killed.
 */
async function spawnServer(o: NatsOptions, store: string, ports?: Ports) {
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command(natsServerBinary(), {
      args: serverArgs(o, store, ports),
      stdin: "null",
      stdout: "null",
      stderr: "null",
    }).spawn();
  } catch (err) {
    throw new Error(
      `Cannot start nats-server (the cluster tests need it: apt-get install nats-server): ${err}`,
    );
  }
  let exited = false;
  child.status.then(() => (exited = true));
  // A clustered node is healthy once it has joined the JetStream meta group.
  const health = o.cluster ? "/healthz" : "/healthz?js-enabled-only=true";
  const end = Date.now() + 20_000;
  let bound: Ports | undefined;
  while (!exited) {
    bound ??= readPorts(store, child.pid);
    if (bound && (await get(`http://127.0.0.1:${bound.monitorPort}${health}`)).ok) {
      return { child, ports: bound };
    }
    if (Date.now() > end) {
      child.kill("SIGKILL");
      await child.status;
      throw new Error(`nats-server not ready after 20 s; its log ends:\n${logTail(store)}`);
    }
    await pause(20);
  }
  await child.status;
  throw new ServerExitedError(logTail(store));
}

/** Starts a nats-server with JetStream; resolves once it reports healthy. */
export async function startNats(options: NatsOptions = {}): Promise<NatsServer> {
  const ownStore = options.storeDir === undefined;
  const store = options.storeDir ?? await Deno.makeTempDir({ prefix: "mp-nats-" });
  const removeStore = async () => {
    if (ownStore) await Deno.remove(store, { recursive: true }).catch(() => {});
  };
  let { child, ports } = await spawnServer(options, store).catch(async (err) => {
    await removeStore();
    throw err;
  });
  let running = true;
  const server: NatsServer = {
    url: `nats://127.0.0.1:${ports.port}`,
    port: ports.port,
    monitorPort: ports.monitorPort,
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
      // The same ports, which another socket may hold a moment: a few tries.
      for (let attempt = 1;; attempt++) {
        try {
          ({ child } = await spawnServer(options, store, ports));
          break;
        } catch (err) {
          const taken = err instanceof ServerExitedError &&
            err.log.includes("address already in use");
          if (!taken || attempt === 5) throw err;
          await pause(100 * attempt);
        }
      }
      running = true;
    },
    async connections() {
      const { body } = await get(`http://127.0.0.1:${ports.monitorPort}/connz`);
      return (JSON.parse(body) as { num_connections: number }).num_connections;
    },
    async [Symbol.asyncDispose]() {
      await server.stop();
      await removeStore();
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

/**
 * Three nats-servers clustered with JetStream (each its own store). Their
 * route ports are picked in advance (each node names the others'); if one
 * was taken meanwhile its node exits, and the cluster starts again on new ones.
 */
export async function startNatsCluster(n = 3): Promise<NatsServer[] & AsyncDisposable> {
  for (let attempt = 1;; attempt++) {
    const name = `mp${Math.random().toString(36).slice(2, 8)}`;
    const ports = Array.from({ length: n }, () => freePort());
    const started = await Promise.allSettled(ports.map((port, i) =>
      startNats({
        cluster: { name, port, routes: ports.filter((_, j) => j !== i), node: `n${i}` },
      })
    ));
    const servers = started.flatMap((s) => s.status === "fulfilled" ? [s.value] : []);
    const dispose = async () => {
      for (const s of servers) await s[Symbol.asyncDispose]();
    };
    const failed = started.find((s) => s.status === "rejected");
    if (!failed) return Object.assign(servers, { [Symbol.asyncDispose]: dispose });
    await dispose();
    if (!(failed.reason instanceof ServerExitedError) || attempt === 3) throw failed.reason;
  }
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
