// The Queue behaviour tests that make sense remotely, against a real
// nats-server (one per test, see _cluster.ts).
import { assert, assertEquals, assertRejects } from "@std/assert";
import { QueueClosedError, QueueEmptyError, QueueFullError } from "../queue.ts";
import { setup, within } from "./_cluster.ts";
import { fixturePath } from "./_helpers.ts";

/** Runs the queue fixture program; resolves with its output lines as they come. */
function program(env: { nats: { url: string }; name: string; authkey: string }, args: string[]) {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", fixturePath("cluster_queue_main.ts"), env.nats.url, env.name, ...args],
    env: { MP_AUTHKEY: env.authkey },
    stdin: "null",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const lines = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  const next = async (): Promise<string> => {
    while (!buffer.includes("\n")) {
      const { value, done } = await lines.read();
      if (done) return buffer;
      buffer += value;
    }
    const at = buffer.indexOf("\n");
    const line = buffer.slice(0, at);
    buffer = buffer.slice(at + 1);
    return line;
  };
  return {
    child,
    next,
    async [Symbol.asyncDispose]() {
      try {
        child.kill("SIGKILL");
      } catch {
        // Exited.
      }
      await child.status;
      await lines.cancel().catch(() => {});
    },
  };
}

Deno.test("Cluster.queue(): FIFO put and get, qsize, empty, and get's timeout", async () => {
  await using env = await setup({ agent: false });
  await using q = env.cluster.queue<unknown>("fifo");
  assertEquals(await q.empty(), true);
  await assertRejects(() => q.getNowait(), QueueEmptyError);
  await assertRejects(() => q.get({ timeout: 50 }), QueueEmptyError);
  const items = [1, "two", { three: [3] }, new Map([[4, 4]]), null];
  for (const item of items) await q.put(item);
  assertEquals(await q.qsize(), items.length);
  const got = [];
  for (let i = 0; i < items.length; i++) got.push(await q.get());
  assertEquals(got, items);
  assertEquals(await q.empty(), true);
  await assertRejects(() => q.put(() => 1), DOMException);
  await assertRejects(() => q.get({ timeout: -1 }), RangeError);
});

Deno.test("Cluster.queue(): maxsize makes it full, put waits for room or rejects with QueueFullError", async () => {
  await using env = await setup({ agent: false });
  await using q = env.cluster.queue<number>("bounded", { maxsize: 2 });
  await q.put(1);
  await q.put(2);
  assertEquals(await q.full(), true);
  assertEquals(q.maxsize, 2);
  await assertRejects(() => q.putNowait(3), QueueFullError);
  await assertRejects(() => q.put(3, { timeout: 50 }), QueueFullError);
  const waiting = q.put(3);
  assertEquals(await q.get(), 1);
  await waiting;
  assertEquals([await q.get(), await q.get()], [2, 3]);
  // Another handle on the same queue sees the limit too.
  await using other = env.cluster.queue<number>("bounded");
  assertEquals(await other.full(), false);
  assertEquals(other.maxsize, 2);
});

Deno.test("Cluster.queue(): for await ends once closed; close() is seen by another process", async () => {
  await using env = await setup({ agent: false });
  await using q = env.cluster.queue<string>("closing");
  await using other = program(env, ["closing", "drain"]);
  assertEquals(await other.next(), "ready");
  await q.put("a");
  await q.put("b");
  assertEquals([await other.next(), await other.next()], ["a", "b"]);
  await q.close();
  assertEquals(await other.next(), "ended");
  assertEquals(await other.next(), "put rejected: QueueClosedError");
  const err = await assertRejects(() => q.put("c"), QueueClosedError);
  assertEquals(err.item, "c");
  await assertRejects(() => q.get(), QueueClosedError);
  const seen = [];
  for await (const item of q) seen.push(item);
  assertEquals(seen, []);
});

Deno.test("Cluster.joinableQueue(): an item taken by a consumer that dies before taskDone() comes back", async () => {
  await using env = await setup({ agent: false, connect: { ackWait: 1_000 } });
  await using q = env.cluster.joinableQueue<string>("jobs");
  await q.put("first");
  await q.put("second");
  {
    await using taker = program(env, ["jobs", "take"]);
    assertEquals(await taker.next(), "took first");
  } // SIGKILLed here, before taskDone().
  const got = await within(15_000, "redelivery", async () => [await q.get(), await q.get()]);
  assertEquals(got.sort(), ["first", "second"]);
  await q.taskDone();
  await q.taskDone();
  await within(15_000, "join", () => q.join());
  await assertRejects(() => q.taskDone(), RangeError, "no unfinished item");
});

Deno.test("Cluster.joinableQueue(): taskDone() acknowledges the oldest item taken; join() waits for it", async () => {
  await using env = await setup({ agent: false });
  await using q = env.cluster.joinableQueue<number>("done");
  for (const i of [1, 2, 3]) await q.put(i);
  assertEquals([await q.get(), await q.get()], [1, 2]);
  let joined = false;
  const join = q.join().then(() => (joined = true));
  await q.taskDone();
  await q.taskDone();
  assert(!joined, "one item is still in the queue");
  assertEquals(await q.get(), 3);
  await q.taskDone();
  await within(15_000, "join", () => join);
  assert(joined);
});

Deno.test("Cluster.queue(): a get aborted by its signal rejects with the reason; no item is lost", async () => {
  await using env = await setup({ agent: false });
  await using q = env.cluster.queue<string>("abort");
  const ac = new AbortController();
  const waiting = q.get({ signal: ac.signal });
  setTimeout(() => ac.abort(new Error("stop")), 50);
  await assertRejects(() => waiting, Error, "stop");
  await q.put("kept");
  assertEquals(await within(15_000, "get", () => q.get()), "kept");
});
