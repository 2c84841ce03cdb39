// A three-node JetStream cluster (three nats-servers on loopback ports,
// streams and buckets with 3 replicas) loses a node mid-map: the map
// completes.
import { assertEquals } from "@std/assert";
import { Cluster } from "../cluster.ts";
import { slow, square } from "./fixtures/cluster_targets.ts";
import { FIXTURES, ROOT, TARGETS as module, within } from "./_cluster.ts";
import { clusterName, connectionsLeft, newKey, startNatsCluster } from "./_nats.ts";

Deno.test("Cluster on a three-node JetStream cluster: a node killed mid-map, the map completes", async () => {
  await using nodes = await startNatsCluster(3);
  {
    await using cluster = await Cluster.connect({
      servers: nodes.map((n) => n.url),
      name: clusterName(),
      authkey: newKey(),
      root: ROOT,
      replicas: 3,
      ackWait: 2_000,
    });
    await using agent = await cluster.serve({
      processes: 2,
      startMethod: "worker",
      modules: [FIXTURES],
    });
    await using pool = cluster.pool({ module });
    assertEquals((await cluster.status()).settings.replicas, 3);
    const xs = Array.from({ length: 200 }, (_, i) => i);
    const p = pool.map(slow, xs.map(() => 20), { chunksize: 1 });
    await within(15_000, "progress", async () => {
      while (agent.record().done === 0) await slow(5);
    });
    await nodes[0].stop("SIGKILL");
    assertEquals(await within(60_000, "map without a node", () => p), xs.map(() => 20));
    assertEquals(await within(30_000, "a map after", () => pool.map(square, [1, 2, 3])), [1, 4, 9]);
  }
  for (const node of nodes.slice(1)) assertEquals(await connectionsLeft(node), 0);
});
