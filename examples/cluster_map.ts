/**
 * A map on a cluster: starts a local nats-server (with JetStream, on free
 * loopback ports, a temporary store), makes this process a worker agent of
 * the cluster, maps over it, prints the cluster's figures, and stops the
 * server. Where no nats-server is installed (`apt-get install
 * nats-server`), it says so and exits cleanly.
 *
 * Run it with `deno run -A examples/cluster_map.ts`. With a server of your
 * own, and agents on other hosts, see README ("Beyond one machine").
 */
import { Cluster } from "../cluster.ts";

/** The task: exported, so that the agents' workers find it by name and source. */
export function cube(x: number): number {
  return x * x * x;
}

function binary(): string | undefined {
  for (const dir of [...(Deno.env.get("PATH") ?? "").split(":"), "/usr/sbin"]) {
    try {
      if (Deno.statSync(`${dir}/nats-server`).isFile) return `${dir}/nats-server`;
    } catch {
      // Not there.
    }
  }
  return undefined;
}

function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}

/** A nats-server of this example's own; resolves once it is healthy. */
async function startServer(path: string) {
  const store = await Deno.makeTempDir({ prefix: "mp-example-nats-" });
  const [port, monitor] = [freePort(), freePort()];
  const args = ["-a", "127.0.0.1", "-p", `${port}`, "-m", `${monitor}`, "-js", "-sd", store];
  const child = new Deno.Command(path, { args, stdout: "null", stderr: "null" }).spawn();
  for (let i = 0; i < 200; i++) {
    const ok = await fetch(`http://127.0.0.1:${monitor}/healthz?js-enabled-only=true`)
      .then((r) => (r.body?.cancel(), r.ok), () => false);
    if (ok) break;
    await new Promise((r) => setTimeout(r, 25));
  }
  return {
    url: `nats://127.0.0.1:${port}`,
    async [Symbol.asyncDispose]() {
      child.kill("SIGTERM");
      await child.status;
      await Deno.remove(store, { recursive: true });
    },
  };
}

if (import.meta.main) {
  const path = binary();
  if (!path) {
    console.log("cluster_map: no nats-server here (apt-get install nats-server); skipped");
    Deno.exit(0);
  }
  await using server = await startServer(path);
  const authkey = crypto.getRandomValues(new Uint8Array(32));
  await using cluster = await Cluster.connect({ servers: server.url, name: "example", authkey });
  // This process works too: a local pool of 2 workers fed from the stream.
  await using agent = await cluster.serve({ processes: 2, startMethod: "worker" });
  await using pool = cluster.pool({ module: import.meta.url });
  const xs = Array.from({ length: 1000 }, (_, i) => i);
  const cubes = await pool.map(cube, xs);
  console.log(`cubes of 0..999 on agent ${agent.id}: sum ${cubes.reduce((a, b) => a + b, 0)}`);
  const result = pool.applyAsync(cube, [7]);
  console.log(`cube(7) = ${await result}, attempts:`, result.attempts.map((a) => a.outcome));
  const { streams, agents } = await cluster.status();
  console.log(`tasks pending ${streams[0].pending}, agents ${agents.length}`);
}
