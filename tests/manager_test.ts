import {
  assert,
  assertEquals,
  assertInstanceOf,
  assertRejects,
  assertStringIncludes,
} from "@std/assert";
import {
  AuthenticationError,
  BaseManager,
  type ListProxy,
  Manager,
  Pool,
  Process,
  ProcessError,
  Queue,
} from "../mod.ts";
import type { ObjectProxy } from "../manager.ts";
import {
  blockedGet,
  callUntilDead,
  type Counter,
  createAndExit,
  incrementMany,
  makeCounter,
  putViaDict,
  reader,
  roundTrip,
  setThenChange,
  setUnserializable,
  sharedQueue,
  syncRoundTrip,
  useCounter,
  writer,
} from "./fixtures/manager_targets.ts";
import { denoRun, fixturePath, hangGuard, pidAlive, startFixture, testBoth } from "./_helpers.ts";
import { asHanded, handThenChange } from "./fixtures/changing.ts";
import { frameOf } from "../_internal/wire/framing.ts";
import { connectAuthed } from "../_internal/transport/sockets.ts";
import { encodeSync } from "../_internal/wire/codec.ts";
import { loseClient } from "../_internal/hub/client.ts";
import type { Address } from "../_internal/transport/address.ts";
import { state } from "../_internal/base/state.ts";
import { registry } from "../_internal/hub/registry.ts";

const module = new URL("./fixtures/manager_targets.ts", import.meta.url).href;

class CounterManager extends BaseManager {}
CounterManager.register("Counter", makeCounter, { module, methods: ["add", "value"] });
CounterManager.register("getQueue", sharedQueue, { module });

/** Polls `fn` until it is true or `ms` pass; resolves whether it became true. */
async function eventually(fn: () => boolean | Promise<boolean>, ms = 5000): Promise<boolean> {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    if (await fn()) return true;
    await new Promise((r) => setTimeout(r, 20));
  }
  return await fn();
}

function socketDir(m: BaseManager): string {
  const a = m.address;
  assert(a.transport === "unix");
  return a.path.replace(/\/[^/]*$/, "");
}

function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}

Deno.test("Manager.dict() follows Python's dict: get/set/has/delete/pop/setdefault/update/keys/values/items/len/clear/copy", async () => {
  await using m = await Manager.start();
  const d = await m.dict<string, number>({ a: 1, b: 2 });
  assertEquals(await d.get("a"), 1);
  assertEquals(await d.get("zz"), undefined);
  assertEquals(await d.get("zz", 9), 9);
  await d.set("c", 3);
  assertEquals(await d.has("c"), true);
  assertEquals(await d.keys(), ["a", "b", "c"]);
  assertEquals(await d.values(), [1, 2, 3]);
  assertEquals(await d.items(), [["a", 1], ["b", 2], ["c", 3]]);
  assertEquals(await d.len(), 3);
  assertEquals(await d.pop("b"), 2);
  assertEquals(await d.pop("b", -1), -1);
  await assertRejects(() => d.pop("b"), RangeError, "no key b");
  assertEquals(await d.setdefault("a", 100), 1);
  assertEquals(await d.setdefault("n", 100), 100);
  assertEquals(await d.delete("n"), true);
  assertEquals(await d.delete("n"), false);
  await d.update({ x: 10, y: 20 });
  await d.update([["z", 30]]);
  assertEquals(await d.increment("x", 5), 15);
  assertEquals(await d.increment("new"), 1);
  const copy = await d.copy();
  assertInstanceOf(copy, Map);
  assertEquals(copy.get("z"), 30);
  await d.set("s", "text" as unknown as number);
  await assertRejects(() => d.increment("s"), TypeError, "must be a number");
  await d.clear();
  assertEquals(await d.len(), 0);
  // Values of every structured-clone kind.
  const any = await m.dict<string, unknown>();
  const value = {
    date: new Date(0),
    map: new Map([[1, "one"]]),
    big: 10n,
    bytes: new Uint8Array([1, 2]),
  };
  await any.set("v", value);
  assertEquals(await any.get("v"), value);
});

Deno.test("Manager.list() follows Python's list: slices, extend, insert, pop, remove, index, count, sort, reverse", async () => {
  await using m = await Manager.start();
  const l = await m.list([5, 3, 1]);
  assertEquals(await l.len(), 3);
  assertEquals(await l.get(0), 5);
  assertEquals(await l.get(-1), 1);
  await assertRejects(() => l.get(3), RangeError, "index 3 is out of range (length 3)");
  assertEquals(await l.extend([7, 3]), 5);
  assertEquals(await l.slice(1, 3), [3, 1]);
  assertEquals(await l.slice(-2), [7, 3]);
  assertEquals(await l.count(3), 2);
  assertEquals(await l.index(7), 3);
  await assertRejects(() => l.index(42), RangeError, "not in list");
  await l.insert(0, 0);
  await l.insert(100, 9);
  assertEquals(await l.toArray(), [0, 5, 3, 1, 7, 3, 9]);
  assertEquals(await l.pop(), 9);
  assertEquals(await l.pop(0), 0);
  await l.remove(3);
  assertEquals(await l.toArray(), [5, 1, 7, 3]);
  await l.sort();
  assertEquals(await l.toArray(), [1, 3, 5, 7]);
  await l.sort({ reverse: true });
  assertEquals(await l.toArray(), [7, 5, 3, 1]);
  await l.reverse();
  await l.set(-1, 70);
  assertEquals(await l.splice(1, 2, 30, 50), [3, 5]);
  assertEquals(await l.toArray(), [1, 30, 50, 70]);
  await l.clear();
  await assertRejects(() => l.pop(), RangeError, "it is empty");
  const nested = await m.list<unknown>([[1, 2], { a: [3] }]);
  assertEquals(await nested.toArray(), [[1, 2], { a: [3] }]);
  assertEquals(await nested.index({ a: [3] }), 1);
});

Deno.test("Manager Namespace, Value and Array keep their data; Array has a fixed length", async () => {
  await using m = await Manager.start();
  const ns = await m.Namespace({ x: 1 });
  await ns.set("y", "two");
  assertEquals(await ns.get("x"), 1);
  assertEquals(await ns.get("missing"), undefined);
  assertEquals(await ns.has("y"), true);
  assertEquals(await ns.toObject(), { x: 1, y: "two" });
  assertEquals(await ns.delete("x"), true);
  const v = await m.Value("d", 1.5);
  assertEquals(v.typecode, "d");
  assertEquals(await v.get(), 1.5);
  await v.set(2);
  assertEquals(await v.increment(3), 5);
  const a = await m.Array("i", [1, 2, 3]);
  assertEquals(a.typecode, "i");
  await a.set(-1, 30);
  assertEquals(await a.toArray(), [1, 2, 30]);
  assertEquals(await a.slice(1), [2, 30]);
  assertEquals(await a.len(), 3);
});

testBoth(
  "Manager proxies (dict, list, Namespace, Value, Queue) round trip through a child",
  async (startMethod) => {
    await using m = await Manager.start();
    const objs = {
      d: await m.dict<string, unknown>(),
      l: await m.list([1, 2, 3]),
      ns: await m.Namespace(),
      v: await m.Value("i", 21),
      q: await m.Queue<string>(),
    };
    await using p = new Process({ target: roundTrip, args: [objs], module, startMethod });
    await p.start();
    assertEquals(await objs.q.get(), "from child");
    await p.join();
    assertEquals(p.exitCode, 0);
    assertEquals(typeof await objs.d.get("child"), "number");
    assertEquals(await objs.l.toArray(), [1, 2, 3, 4]);
    assertEquals(await objs.ns.get("seen"), true);
    assertEquals(await objs.v.get(), 42);
  },
);

testBoth(
  "a value changed after an unawaited proxy call is stored as it was at the call",
  async (startMethod) => {
    await using m = await Manager.start();
    const d = await m.dict<string, unknown>();
    await handThenChange((v, i) => d.set(`parent ${i}`, v));
    await using p = new Process({ target: setThenChange, args: [d], module, startMethod });
    await p.start();
    await p.join();
    assertEquals(p.exitCode, 0);
    for (const [i, v] of asHanded().entries()) {
      assertEquals(await d.get(`parent ${i}`), v);
      assertEquals(await d.get(`child ${i}`), v);
    }
    assertEquals(await d.get("done"), true);
  },
);

testBoth(
  "a proxy call with a function is refused at the call, here and in a child; the dict goes on",
  async (startMethod) => {
    await using m = await Manager.start();
    const d = await m.dict<string, unknown>();
    await assertRejects(() => d.set("f", () => 1), DOMException);
    await using p = new Process({ target: setUnserializable, args: [d], module, startMethod });
    await p.start();
    await p.join();
    assertEquals(p.exitCode, 0);
    assertEquals(await d.get("error"), "DataCloneError");
    assertEquals(await d.get("after"), true);
    assertEquals(await d.has("f"), false);
  },
);

testBoth(
  "Manager Lock, Event, Semaphore, Barrier and Condition round trip through a child",
  async (startMethod) => {
    await using m = await Manager.start();
    const lock = await m.Lock();
    const objs = {
      lock,
      event: await m.Event(),
      sem: await m.Semaphore(1),
      barrier: await m.Barrier(2),
      cond: await m.Condition(lock),
      d: await m.dict<string, unknown>(),
    };
    assertEquals(await lock.acquire(), true);
    await using p = new Process({ target: syncRoundTrip, args: [objs], module, startMethod });
    await p.start();
    // The child waits for the lock: the event stays clear until we let go.
    assertEquals(await objs.event.wait({ timeout: 200 }), false);
    await lock.release();
    assertEquals(await objs.event.wait({ timeout: 10_000 }), true);
    await objs.barrier.wait({ timeout: 10_000 });
    // The child holds the semaphore's only permit.
    assertEquals(await objs.sem.acquire({ timeout: 50 }), false);
    await objs.cond.acquire();
    while (!await objs.d.get("ready")) await objs.cond.wait({ timeout: 10_000 });
    await objs.cond.release();
    await p.join();
    assertEquals(p.exitCode, 0);
    await assertRejects(() => m.Semaphore(-1), RangeError);
    await assertRejects(() => (m.BoundedSemaphore(1)).then((s) => s.release()), Error);
    const r = await m.RLock();
    assertEquals(await r.acquire(), true);
    assertEquals(await r.acquire({ block: false }), true);
  },
);

testBoth(
  "Manager.Queue() shared by pool tasks: the seed's writers and readers",
  async (startMethod) => {
    await using m = await Manager.start();
    const q = await m.Queue<string>();
    await using pool = new Pool({ processes: 2, startMethod, module });
    // As in the seed: ten writers, then ten readers, one message each.
    const writes = Array.from({ length: 10 }, (_, i) => pool.applyAsync(writer, [i, q]));
    const reads = Array.from({ length: 10 }, (_, i) => pool.applyAsync(reader, [i, q]));
    await Promise.all(writes);
    const got = (await Promise.all(reads)).map((m) => Number(m.split(" ").at(-1)));
    assertEquals(got.sort((a, b) => a - b), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  },
);

testBoth(
  "a queue inside a manager dict reaches a child as a queue (nested proxies)",
  async (startMethod) => {
    await using m = await Manager.start();
    const q = await m.Queue<string>();
    const d = await m.dict<string, Queue<string>>();
    await d.set("q", q);
    const lists = await m.dict<string, ListProxy<number>>({ inner: await m.list([1]) });
    assertEquals(await (await lists.get("inner"))!.toArray(), [1]);
    await using p = new Process({ target: putViaDict, args: [d], module, startMethod });
    await p.start();
    assertEquals(await q.get({ timeout: 10_000 }), "via dict");
    await p.join();
    assertEquals(p.exitCode, 0);
  },
);

testBoth(
  "a registered type exposes only its allowlisted methods, also in a child",
  async (startMethod) => {
    await using m = new CounterManager();
    await m.start();
    const c = await m.create<ObjectProxy<Counter>>("Counter", 10);
    assertEquals(c.methods, ["add", "value"]);
    assertEquals(await c.call("add", 5), 15);
    await assertRejects(
      () => c.call("reset"),
      TypeError,
      "'reset' on 'Counter': it is not an exposed method",
    );
    await assertRejects(() => m.create("Nope"), TypeError, "the manager has no such type");
    await using p = new Process({ target: useCounter, args: [c, 3], module, startMethod });
    await p.start();
    await p.join();
    assertEquals(await c.call("value"), 18);
  },
);

testBoth("1,000 concurrent increments from 8 children lose no update", async (startMethod) => {
  await using m = await Manager.start();
  const d = await m.dict<string, number>();
  const children = Array.from(
    { length: 8 },
    () => new Process({ target: incrementMany, args: [d, "n", 125], module, startMethod }),
  );
  await Promise.all(children.map((p) => p.start()));
  await Promise.all(children.map((p) => p.join()));
  for (const p of children) assertEquals(p.exitCode, 0);
  assertEquals(await d.get("n"), 1000);
});

testBoth(
  "an object is freed when the last process holding it is gone; one stored in a dict lives on",
  async (startMethod) => {
    await using m = await Manager.start();
    const d = await m.dict<string, unknown>();
    const base = await m.liveObjects();
    await using p = new Process({
      target: createAndExit,
      args: [m.address, d],
      module,
      startMethod,
    });
    await p.start();
    await p.join();
    assertEquals(p.exitCode, 0);
    // The child's own list went with its connection; the stored one lives.
    assert(await eventually(async () => (await m.liveObjects()) === base + 1), "stored list freed");
    const kept = await d.get("kept") as ListProxy<number>;
    assertEquals(await kept.toArray(), [7]);
    await d.delete("kept");
    // Our proxy from the get still holds it (kept reachable: a proxy that is
    // garbage collected gives its reference back): freed once we let go.
    assertEquals(await m.liveObjects(), base + 1);
    assertEquals(await kept.toArray(), [7]);
  },
);

Deno.test("a proxy garbage collected in its process gives its reference back: the object is freed", async () => {
  const out = await denoRun(["--v8-flags=--expose-gc", fixturePath("manager_gc_main.ts")]);
  assertEquals(out.code, 0, out.stderr);
  assertEquals(JSON.parse(out.stdout), { base: 0, made: 1, after: 0, childExit: 0, afterChild: 0 });
});

Deno.test("Manager.shutdown() ends the manager process with exit code 0 and removes its socket", async () => {
  const m = await Manager.start();
  const dir = socketDir(m);
  const pid = m.pid!;
  assert(exists(dir));
  assertEquals(m.exitCode, null);
  await m.shutdown();
  assertEquals(m.exitCode, 0);
  assert(!exists(dir), "socket directory left");
  assert(!pidAlive(pid), "manager process left");
  await m.shutdown(); // idempotent
  await assertRejects(() => m.dict(), ProcessError, "the manager is shutdown");
});

Deno.test("a killed manager: the next call on any proxy rejects, nothing hangs", async () => {
  const m = await Manager.start();
  const d = await m.dict<string, number>({ a: 1 });
  const q = await m.Queue<number>();
  const pending = q.get();
  Deno.kill(m.pid!, "SIGKILL");
  await assertRejects(() => pending, ProcessError, "Lost the connection");
  const calls = [() => d.get("a"), () => q.get(), () => q.qsize(), () => q.put(1), () => m.dict()];
  // Each rejects, none waits for a reply that cannot come (the guard fails
  // the test instead of letting it hang).
  for (const call of calls) await hangGuard(assertRejects(call, ProcessError), 15_000);
  await m.shutdown();
  assertEquals(m.exitCode, -9);
  assert(!exists(socketDir(m)), "socket directory left");
});

testBoth("a child calling a killed manager gets a clear error", async (startMethod) => {
  const m = await Manager.start();
  const d = await m.dict<string, number>();
  await using out = new Queue<string>();
  await using p = new Process({ target: callUntilDead, args: [d, out], module, startMethod });
  await p.start();
  assertEquals(await out.get(), "ready");
  Deno.kill(m.pid!, "SIGKILL");
  assertStringIncludes(await out.get({ timeout: 5000 }), "ProcessError: Lost the connection");
  await p.join();
  await m.shutdown();
});

testBoth(
  "a client killed mid-call affects only its connection: the manager serves on, nothing lost",
  async (startMethod) => {
    await using m = await Manager.start();
    const q = await m.Queue<string>();
    await using ready = new Queue<string>();
    const p = new Process({ target: blockedGet, args: [q, ready], module, startMethod });
    await p.start();
    assertEquals(await ready.get(), "ready");
    p.kill();
    await p.join();
    await q.put("after the kill");
    assertEquals(await q.get({ timeout: 5000 }), "after the kill");
    const d = await m.dict({ still: "serving" });
    assertEquals(await d.get("still"), "serving");
    p.close();
  },
);

Deno.test("a slow reader fills only its own connection: other clients are served meanwhile", async () => {
  await using m = await Manager.start();
  const d = await m.dict<string, string>({ big: "x".repeat(1 << 20), small: "s" });
  // A raw client that asks for 1 MiB 64 times and never reads a reply.
  const a = m.address;
  assert(a.transport === "unix");
  const authed = await connectAuthed(a, m.authkey);
  const send = (msg: unknown) => authed.writer.write(frameOf(encodeSync(msg)!));
  await send({ op: "attach", ident: "slow-reader" });
  for (let r = 1; r <= 64; r++) await send({ r, o: d.id, m: "get", a: ["big"] });
  for (let i = 0; i < 20; i++) assertEquals(await d.get("small"), "s");
  authed.conn.close();
});

Deno.test("a wrong authkey: connect() rejects with AuthenticationError, and the manager serves on", async () => {
  await using m = await Manager.start({
    address: { port: 0 },
    authkey: "the right key, 16+ bytes",
  });
  const wrong = new BaseManager({ address: m.address, authkey: "a wrong key, 16+ bytes" });
  await assertRejects(() => wrong.connect(), AuthenticationError);
  // Garbage on a raw connection closes that connection only.
  const a = m.address;
  assert(a.transport === "tcp");
  const conn = await Deno.connect({ hostname: a.hostname, port: a.port });
  await conn.write(new Uint8Array(64).fill(0xff));
  const buf = new Uint8Array(256);
  while ((await conn.read(buf).catch(() => null)) !== null) { /* until the manager hangs up */ }
  conn.close();
  await using right = new BaseManager({ address: m.address, authkey: "the right key, 16+ bytes" });
  await right.connect();
  const l = await right.create<ListProxy<number>>("list", [1]);
  assertEquals(await l.toArray(), [1]);
});

Deno.test("a remote manager on TCP is reached by a separate deno run process with the key", async () => {
  await using m = new CounterManager({
    address: { hostname: "127.0.0.1", port: 0 },
    authkey: "s3cret s3cret s3cret",
  });
  await m.start();
  const a = m.address;
  assert(a.transport === "tcp");
  const q = await m.create<Queue<string>>("getQueue");
  const out = await denoRun([
    fixturePath("manager_client_main.ts"),
    `${a.hostname}:${a.port}`,
    "s3cret s3cret s3cret",
  ]);
  assertEquals(out.code, 0, out.stderr);
  assertEquals(await q.get({ timeout: 5000 }), "hello from another process");
  const bad = await denoRun([
    fixturePath("manager_client_main.ts"),
    `${a.hostname}:${a.port}`,
    "nope nope nope nope",
  ]);
  assertEquals(bad.code, 3, bad.stderr);
});

Deno.test("serveForever() in another process: connect, use, shut down remotely; it exits 0", async () => {
  const { child, line, stdout } = await startFixture("manager_serve_main.ts");
  await stdout.cancel();
  const address = JSON.parse(line);
  const m = new CounterManager({ address, authkey: "forever and ever, 16+" });
  await m.connect();
  const c = await m.create<ObjectProxy<Counter>>("Counter", 1);
  assertEquals(await c.call("add", 1), 2);
  await m.shutdown();
  assertEquals((await child.status).code, 0);
});

for (const how of ["killed", "ending without shutdown()"]) {
  Deno.test(`the owner ${how}: its manager exits and leaves no socket`, async () => {
    const { child, line, stdout } = await startFixture("manager_owner_main.ts", [
      how === "killed" ? "" : "return",
    ]);
    const { pid, path } = JSON.parse(line);
    if (how === "killed") child.kill("SIGKILL");
    await child.status;
    await stdout.cancel();
    assert(await eventually(() => !pidAlive(pid)), "manager process left");
    assert(await eventually(() => !exists(path.replace(/\/[^/]*$/, ""))), "socket directory left");
  });
}

Deno.test("BaseManager validates its arguments", async () => {
  const { assertThrows } = await import("@std/assert");
  assertThrows(() => new BaseManager({ address: { port: 70000 } }), RangeError, "received 70000");
  assertThrows(
    () => BaseManager.register("x", (() => {}) as () => void),
    TypeError,
    "must be a named function",
  );
  const m = new BaseManager();
  assertThrows(() => m.address, ProcessError, "it is not started");
  // A port in use: the manager process reports it, and exits.
  await using first = await Manager.start({ address: { port: 0 } });
  const taken = first.address as { hostname: string; port: number };
  const second = new Manager({ address: taken });
  await assertRejects(() => second.start(), ProcessError, "Cannot start manager");
  await assertRejects(() => new BaseManager({ address: taken }).serveForever(), Error);
  await assertRejects(() => m.create("dict"), ProcessError, "the manager is initial");
  await assertRejects(() => new BaseManager().connect(), TypeError, "'address' is required");
});

// Issue #12, item 2: disposing a connected BaseManager used to close the
// connection every proxy of this process shares, and free what it held.
Deno.test("BaseManager[Symbol.asyncDispose]() of a connected client: 100 cycles while another proxy keeps working", async () => {
  await using m = await Manager.start();
  const d = await m.dict<string, number>({ n: 0 });
  const kept = await m.list([1, 2, 3]);
  const base = await m.liveObjects();
  for (let round = 0; round < 100; round++) {
    {
      await using c = new BaseManager({ address: m.address, authkey: m.authkey });
      await c.connect();
      const l = await c.create<ListProxy<number>>("list", [round]);
      assertEquals(await l.toArray(), [round], `round ${round}`);
    }
    await d.set("n", round);
    assertEquals(await d.get("n"), round, `round ${round}`);
  }
  assertEquals(await kept.toArray(), [1, 2, 3]);
  // What the clients made went with them; what the owner holds stays.
  assert(await eventually(async () => (await m.liveObjects()) === base), "objects left");
  const pid = m.pid!;
  await m.shutdown();
  assertEquals(m.exitCode, 0);
  assert(!pidAlive(pid));
});

Deno.test("RemoteRef: a connection lost to a manager that is still alive reconnects, and no object is lost", async () => {
  await using m = await Manager.start();
  const d = await m.dict<string, number>({ a: 1 });
  const l = await m.list([1]);
  const base = await m.liveObjects();
  for (let i = 0; i < 3; i++) {
    loseClient(m.address as Address);
    assertEquals(await d.get("a"), 1);
    assertEquals(await l.toArray(), [1]);
    assertEquals(await m.liveObjects(), base);
  }
});

// Issue #12, item 4: each connection to a manager left an exit hook (and,
// through it, its read buffer) behind for the life of the process.
Deno.test("Manager.start()/shutdown() cycles leave no exit hook and no connection behind", async () => {
  const hooks = state().exitHooks.size;
  const clients = registry().clients.size;
  for (let i = 0; i < 5; i++) {
    const m = await Manager.start();
    const d = await m.dict({ i });
    assertEquals(await d.get("i"), i);
    await m.shutdown();
  }
  assertEquals(state().exitHooks.size, hooks, "live exit hooks");
  assertEquals(registry().clients.size, clients, "live connections");
});
