// The test helper that starts nats-servers: a server that cannot start says
// why at once (it does not leave the caller polling a dead server), and
// servers take the ports they bind themselves.
import { assert, assertEquals, assertNotEquals, assertRejects } from "@std/assert";
import { ServerExitedError, startNats } from "./_nats.ts";

/** The `port` in the INFO greeting of the server on `port`, and whether its monitor answers. */
async function probe(port: number, monitorPort: number): Promise<[number, boolean]> {
  using conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const buf = new Uint8Array(4096);
  const line = new TextDecoder().decode(buf.subarray(0, (await conn.read(buf)) ?? 0));
  assert(line.startsWith("INFO "), line);
  const health = await fetch(`http://127.0.0.1:${monitorPort}/healthz`);
  await health.body?.cancel();
  return [JSON.parse(line.slice(5)).port, health.ok];
}

Deno.test("startNats: the server reports the ports it bound, and a restart gets them again", async () => {
  await using nats = await startNats();
  assertNotEquals(nats.port, nats.monitorPort);
  assertEquals(await probe(nats.port, nats.monitorPort), [nats.port, true]);
  await nats.stop("SIGKILL");
  await nats.restart();
  assertEquals(await probe(nats.port, nats.monitorPort), [nats.port, true]);
});

Deno.test("startNats: a restart onto a port another socket holds fails with the server's reason", async () => {
  await using nats = await startNats();
  await nats.stop();
  using _squatter = Deno.listen({ hostname: "127.0.0.1", port: nats.port });
  const err = await assertRejects(() => nats.restart(), ServerExitedError);
  assert(err.log.includes("address already in use"), err.log);
});
