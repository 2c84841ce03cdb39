// The cluster's authkey guards execution: tampered tasks, results and
// items, and a wrong key, are refused (never run, never accepted); agents
// import only modules under their prefixes, and a host whose copy of a
// module differs says so.
import { assert, assertEquals, assertRejects, assertStringIncludes } from "@std/assert";
import { AuthenticationError } from "../context.ts";
import { connect, jetstream } from "../_internal/cluster/deps.ts";
import { seal } from "../_internal/cluster/seal.ts";
import { fingerprint } from "../_internal/cluster/core.ts";
import { record, square } from "./fixtures/cluster_targets.ts";
import { FIXTURES, ROOT, setup, startAgent, TARGETS as module, within } from "./_cluster.ts";
import { denoRun, tempDir } from "./_helpers.ts";
import { newKey } from "./_nats.ts";

/** Whether the file exists (a `record` task ran). */
function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}

/** Waits until `f` holds (15 s at most). */
async function until(what: string, f: () => Promise<boolean> | boolean): Promise<void> {
  await within(15_000, what, async () => {
    while (!(await f())) await new Promise((r) => setTimeout(r, 10));
  });
}

function flipLast(bytes: Uint8Array): Uint8Array {
  const out = bytes.slice();
  out[out.length - 2] ^= 1;
  return out;
}

Deno.test("Cluster security: a tampered task is refused, never run, and dead-lettered", async () => {
  await using dir = await tempDir();
  await using env = await setup();
  const ran = `${dir.path}/ran`;
  const id = "abcdefabcdef.1";
  const body = {
    kind: "tasks",
    id,
    fn: {
      module: "tests/fixtures/cluster_targets.ts",
      rel: true,
      exportName: "record",
      fingerprint: fingerprint(record),
    },
    tasks: [[[ran, "ran"]]],
  };
  const key = Uint8Array.from(env.authkey.match(/../g)!.map((h) => parseInt(h, 16)));
  const nc = await connect({ servers: env.nats.url });
  try {
    const subject = `mp.${env.name}.tasks.intruder`;
    await jetstream(nc).publish(subject, flipLast(await seal(key, body)), { msgID: id });
  } finally {
    await nc.close();
  }
  await until("the refusal", () => env.agent!.record().refused === 1);
  await until("the ack", async () => (await env.cluster.status()).streams[0].inFlight === 0);
  const status = await env.cluster.status();
  assertEquals(status.streams[0].deadLettered, 1);
  assertEquals([status.streams[0].pending, status.streams[0].inFlight], [0, 0]);
  assert(!exists(ran), "the tampered task ran");
});

Deno.test("Cluster security: a tampered result, or one signed with another key, is not accepted", async () => {
  await using env = await setup({ agent: false });
  await using pool = env.cluster.pool({ module });
  const key = Uint8Array.from(env.authkey.match(/../g)!.map((h) => parseInt(h, 16)));
  const entry = (id: string) => ({
    kind: "results",
    id,
    history: [{ attempt: 1, host: "evil", outcome: "completed" }],
    out: [{ ok: [666], a: 1 }],
  });
  // Play the agent: take each task message, answer it with a forged entry.
  const nc = await connect({ servers: env.nats.url });
  try {
    const js = jetstream(nc);
    const consumer = await js.consumers.get(`MP_${env.name}_TASKS`, "workers");
    const answer = async (forge: (id: string) => Promise<Uint8Array>) => {
      const m = await consumer.next({ expires: 5_000 });
      const id = m!.headers!.get("Nats-Msg-Id");
      await js.publish(`$KV.MP_${env.name}_RESULTS.r.${id}`, await forge(id));
    };
    const tampered = pool.applyAsync(square, [3]);
    await answer(async (id) => flipLast(await seal(key, entry(id))));
    await assertRejects(
      () => tampered.get(),
      AuthenticationError,
      "not signed with this cluster's authkey",
    );
    const otherKey = pool.applyAsync(square, [4]);
    await answer((id) => seal(crypto.getRandomValues(new Uint8Array(32)), entry(id)));
    await assertRejects(
      () => otherKey.get(),
      AuthenticationError,
      "not signed with this cluster's authkey",
    );
  } finally {
    await nc.close();
  }
});

Deno.test("Cluster security: a task signed with another key is refused, and its submitter told", async () => {
  await using dir = await tempDir();
  await using env = await setup();
  const intruder = await env.connect({ authkey: newKey() });
  await using pool = intruder.pool({ module });
  const ran = `${dir.path}/ran`;
  const err = await assertRejects(() => pool.apply(record, [ran, "ran"]), AuthenticationError);
  assertStringIncludes(err.message, "refused the task");
  await until("the count", () => env.agent!.record().refused === 1);
  assertEquals((await env.cluster.status()).streams[0].deadLettered, 1);
  assert(!exists(ran), "a task signed with another key ran");
});

Deno.test("Cluster security: a task of a module outside the agent's modules is refused, never run", async () => {
  await using dir = await tempDir();
  await using env = await setup({ agent: { modules: [`${FIXTURES}allowed/`] } });
  await using pool = env.cluster.pool({ module });
  const ran = `${dir.path}/ran`;
  const err = await assertRejects(() => pool.apply(record, [ran, "ran"]));
  assertStringIncludes(
    (err as Error).message,
    `module ${module} is not under this agent's modules`,
  );
  await until("the count", () => env.agent!.record().refused === 1);
  assert(!exists(ran), "a module outside the agent's modules ran");
});

Deno.test("Cluster security: an agent whose copy of the module differs fails the task, naming host and module", async () => {
  await using dir = await tempDir();
  const copy = `${dir.path}/tests/fixtures/cluster_targets.ts`;
  await Deno.mkdir(`${dir.path}/tests/fixtures`, { recursive: true });
  const source = await Deno.readTextFile(`${ROOT}tests/fixtures/cluster_targets.ts`);
  await Deno.writeTextFile(copy, source.replace("return x * x;", "return x * x + 1;"));
  await using env = await setup({
    agent: { root: dir.path, modules: [`${dir.path}/`] },
    connect: { host: "host-b" },
  });
  await using pool = env.cluster.pool({ module });
  const err = await assertRejects(() => pool.apply(square, [2]), TypeError);
  assertStringIncludes(err.message, "Cannot run task on host host-b");
  assertStringIncludes(
    err.message,
    `its copy of file://${dir.path}/tests/fixtures/cluster_targets.ts differs`,
  );
});

Deno.test("Cluster security: an item not signed with the authkey is refused; the next one is got", async () => {
  await using env = await setup({ agent: false });
  await using q = env.cluster.queue<string>("signed");
  await q.qsize();
  const nc = await connect({ servers: env.nats.url });
  try {
    await jetstream(nc).publish(`mp.${env.name}.q.signed`, new TextEncoder().encode("forged item"));
  } finally {
    await nc.close();
  }
  await q.put("real");
  assertEquals(await q.get(), "real");
  assertEquals(q.refused, 1);
  assertEquals(
    (await env.cluster.status()).streams.find((s) => s.name === "signed")?.deadLettered,
    1,
  );
});

Deno.test("cluster/worker: refuses to start without an authkey, or with one on the command line; status --json", async () => {
  await using env = await setup({ agent: false });
  const base = [`${ROOT}cluster/worker.ts`, "--servers", env.nats.url, "--name", env.name];
  const noKey = await denoRun(base, { env: { MP_AUTHKEY: "" } });
  assertEquals(noKey.code, 2);
  assertStringIncludes(noKey.stderr, "no authkey");
  const argv = await denoRun([...base, "--authkey", env.authkey]);
  assertEquals(argv.code, 2);
  assertStringIncludes(argv.stderr, "never goes on the command line");
  await using agent = await startAgent(env, ["--processes", "1", "--start-method", "worker"]);
  const status = await denoRun([`${ROOT}cluster/worker.ts`, "status", ...base.slice(1), "--json"]);
  assertEquals(status.code, 0, status.stderr);
  const figures = JSON.parse(status.stdout);
  assertEquals(figures.agents.map((a: { id: string }) => a.id), [agent.id]);
  assertEquals(figures.streams[0].name, "tasks");
});
