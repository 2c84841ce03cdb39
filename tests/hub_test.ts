// The hub's socket: authkey challenge both ways, and misbehaving peers that
// lose their own connection only, on both transports.
import { assert, assertEquals, assertRejects } from "@std/assert";
import { acquireHub } from "../_internal/hub/hub.ts";
import { state } from "../_internal/base/state.ts";
import type { Address } from "../_internal/transport/address.ts";
import { connectAuthed, connectTo } from "../_internal/transport/sockets.ts";
import { listen } from "../_internal/transport/listen.ts";
import {
  AuthenticationError,
  BaseManager,
  Manager,
  Process,
  Queue,
  QueueClosedError,
  Semaphore,
} from "../mod.ts";
import { loseClient } from "../_internal/hub/client.ts";
import { TO_DESCRIPTOR } from "../_internal/base/symbols.ts";
import { LocalRef } from "../_internal/hub/refs.ts";
import { expireSessions } from "../_internal/hub/sessions.ts";
import { FlowGate } from "../_internal/hub/flow.ts";
import { noop } from "./fixtures/targets.ts";
import { produce } from "./fixtures/queue_targets.ts";
import { fixturePath, TARGETS as module, testBoth } from "./_helpers.ts";
import { rawClient } from "./_raw.ts";

/** The flags a `deno run` of a fixture needs in this run (the offline import map). */
function runtimeFlags(): string[] {
  const url = import.meta.resolve("@std/assert");
  return url.includes("/.ci/std/")
    ? [`--import-map=${new URL("../.ci/std/import_map.json", import.meta.url).pathname}`]
    : [];
}

const QUEUE_TARGETS = new URL("./fixtures/queue_targets.ts", import.meta.url).href;

/** Polls `fn` until it is true (bounded: 10 s); resolves whether it became true. */
async function eventually(fn: () => boolean | Promise<boolean>, ms = 10_000): Promise<boolean> {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    if (await fn()) return true;
    await new Promise((r) => setTimeout(r, 10));
  }
  return await fn();
}

for (const transport of ["unix", "tcp"] as const) {
  Deno.test(`hub rejects a wrong authkey with AuthenticationError [${transport}]`, async () => {
    const s = state();
    const before = s.transport;
    s.transport = transport;
    const hub = await acquireHub();
    try {
      const wrong = crypto.getRandomValues(new Uint8Array(32));
      await assertRejects(
        () => connectAuthed(hub.address, wrong),
        AuthenticationError,
      );
      const right = await connectAuthed(hub.address, s.authkey);
      right.conn.close();
    } finally {
      hub.release();
      s.transport = before;
    }
  });

  Deno.test(`hub closes a connection that sends garbage, and serves the next [${transport}]`, async () => {
    const s = state();
    const before = s.transport;
    s.transport = transport;
    const hub = await acquireHub();
    try {
      for (
        const garbage of [[0xff, 0xff, 0xff, 0xff, 1, 2], [0, 0, 0, 3, 1, 2, 3]]
      ) {
        const conn = await connectTo(hub.address);
        await conn.write(new Uint8Array(garbage));
        // The hub sends its challenge, then hangs up on the garbage answer.
        const buf = new Uint8Array(256);
        while ((await conn.read(buf)) !== null) { /* drain until closed */ }
        conn.close();
      }
      const ok = await connectAuthed(hub.address, s.authkey);
      ok.conn.close();
    } finally {
      hub.release();
      s.transport = before;
    }
  });

  Deno.test(`a child starts over the ${transport} transport`, async () => {
    const s = state();
    const before = s.transport;
    s.transport = transport;
    try {
      await using p = new Process({ target: noop, module });
      await p.start();
      await p.join();
      assertEquals(p.exitCode, 0);
    } finally {
      s.transport = before;
    }
  });
}

Deno.test("a unix listener lives in a private directory and is removed on close", async () => {
  const bound = await listen("unix");
  const path = (bound.address as Extract<Address, { transport: "unix" }>).path;
  const dir = path.slice(0, path.lastIndexOf("/"));
  assertEquals((await Deno.stat(dir)).mode! & 0o777, 0o700);
  assertEquals((await Deno.stat(path)).mode! & 0o777, 0o600);
  bound.close();
  await assertRejects(() => Deno.stat(dir), Deno.errors.NotFound);
});

// Issue #12, item 1: a malformed message after a correct handshake used to
// throw in the object server's dispatch and end the whole process.
const MALFORMED: unknown[] = [
  null,
  { b: 1 },
  { b: [null] },
  { b: [{ b: [{ b: "x" }] }] },
  [1, 2, 3],
  "attach",
  42,
  { r: "x", o: {}, m: 7, a: "not an array" },
  { r: 1, o: "1", m: "qsize", a: null },
  { c: { toString: 1 } },
  { o: "1", m: "put", a: [1], extra: true },
];

for (const transport of ["unix", "tcp"] as const) {
  testBoth(
    `hub: a malformed message closes that connection only, the host serves on [${transport}]`,
    async (startMethod) => {
      const s = state();
      const before = s.transport;
      s.transport = transport;
      try {
        await using q = new Queue<number>();
        const d = await q[TO_DESCRIPTOR]();
        for (const msg of MALFORMED) {
          await using raw = await rawClient(d.address, s.authkey);
          await raw.send({ op: "attach", ident: "malformed" });
          await raw.send(msg);
          // The host hangs up on it (the connection only), or, for a message it
          // can answer, answers; either way this process is still here.
          await raw.send({ r: 99, o: d.id, m: "qsize", a: [] });
          assert(await eventually(() => raw.isClosed() || raw.received.length > 0));
        }
        // A legitimate client (a child) is still served.
        await using p = new Process({
          target: produce,
          args: [q, 2],
          module: QUEUE_TARGETS,
          startMethod,
        });
        await p.start();
        assertEquals([await q.get(), await q.get()], [0, 1]);
        await p.join();
        assertEquals(p.exitCode, 0);
      } finally {
        s.transport = before;
      }
    },
  );
}

Deno.test("Manager: a malformed message closes that connection only, the manager serves on", async () => {
  for (const address of [undefined, { port: 0 }]) {
    await using m = await Manager.start(address ? { address } : {});
    const d = await m.dict<string, number>({ a: 1 });
    for (const msg of MALFORMED) {
      await using raw = await rawClient(m.address as Address, m.authkey);
      await raw.send({ op: "attach", ident: "malformed" });
      await raw.send(msg);
      await raw.send({ r: 99, o: d.id, m: "len", a: [] });
      assert(await eventually(() => raw.isClosed() || raw.received.length > 0));
    }
    assertEquals(m.exitCode, null);
    assertEquals(await d.get("a"), 1);
    const l = await m.list([1, 2]);
    assertEquals(await l.toArray(), [1, 2]);
  }
});

// Issue #12, item 5: Nagle's algorithm held back the handshake's small
// frames on TCP (two delayed ACKs per connect).
Deno.test("transport: every TCP connection the library opens or accepts has no-delay set", async () => {
  const probe = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const c = await Deno.connect({ hostname: "127.0.0.1", port: (probe.addr as Deno.NetAddr).port });
  const proto = Object.getPrototypeOf(c) as {
    setNoDelay(on?: boolean): void;
    read(p: Uint8Array): Promise<number | null>;
  };
  c.close();
  probe.close();
  const noDelay = new WeakSet<object>();
  const seen = new Set<object>();
  const { setNoDelay, read } = proto;
  proto.setNoDelay = function (this: object, on = true) {
    if (on) noDelay.add(this);
    return setNoDelay.call(this, on);
  };
  proto.read = function (this: object, p: Uint8Array) {
    seen.add(this);
    return read.call(this, p);
  };
  const s = state();
  const before = s.transport;
  s.transport = "tcp";
  try {
    // The hub accepts a child's connection; this process dials a TCP manager.
    await using p = new Process({ target: noop, module });
    await p.start();
    await p.join();
    await using m = await Manager.start({ address: { port: 0 } });
    const d = await m.dict({ a: 1 });
    assertEquals(await d.get("a"), 1);
    await using c = new BaseManager({ address: m.address, authkey: m.authkey });
    await c.connect();
  } finally {
    s.transport = before;
    proto.setNoDelay = setNoDelay;
    proto.read = read;
  }
  assert(seen.size >= 3, `${seen.size} TCP connections seen`);
  for (const conn of seen) assert(noDelay.has(conn), "a TCP connection without no-delay");
});

// Issue #12, item 6: idle unauthenticated connections were unbounded, and
// "Too many open files" ended the accept loop for good.
for (const transport of ["unix", "tcp"] as const) {
  Deno.test(`hub: under 'ulimit -n 128', 300 idle connections do not stop it serving a valid client [${transport}]`, async () => {
    const child = new Deno.Command("bash", {
      args: [
        "-c",
        `ulimit -n 128 && exec "${Deno.execPath()}" run -A ${runtimeFlags().join(" ")} "${
          fixturePath("idle_host_main.ts")
        }" ${transport}`,
      ],
      stdin: "piped",
      stdout: "piped",
      stderr: "inherit",
    }).spawn();
    const lines = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
    const idle: Deno.Conn[] = [];
    try {
      let text = "";
      while (!text.includes("\n")) {
        const { value, done } = await lines.read();
        if (done) break;
        text += value;
      }
      const info = JSON.parse(text) as { address: Address; authkey: string; id: string };
      const key = new Uint8Array(info.authkey.match(/../g)!.map((h) => parseInt(h, 16)));
      for (let i = 0; i < 300; i++) {
        try {
          idle.push(await connectTo(info.address));
        } catch { /* a full backlog refuses some: they are idle all the same */ }
      }
      await using raw = await rawClient(info.address, key);
      await raw.send({ op: "attach", ident: "valid" });
      await raw.send({ r: 1, o: info.id, m: "get", a: [null, 1] });
      assert(await eventually(() => raw.received.length > 0), "no reply");
      assertEquals((raw.received[0] as { r: number; v: { i: unknown[] } }).v.i, ["still serving"]);
    } finally {
      for (const c of idle) c.close();
      await lines.cancel();
      child.stdin.close();
      await child.status;
    }
  });
}

// Issue #12, item 2, at the object server: what a client holds by session
// outlives a lost connection, is resumed by the same session, and goes when
// the session ends.
Deno.test("hub: a session outlives a lost connection, is resumed by its id, and ends with {end: true} or its grace period", async () => {
  const ended: string[] = [];
  const obj = new LocalRef({
    call: () => null,
    endSession: (session: string) => void ended.push(session),
  });
  const hub = await acquireHub();
  const session = "0123456789abcdef0123456789abcdef";
  try {
    const attach = async () => {
      const raw = await rawClient(hub.address, state().authkey);
      await raw.send({ op: "attach", ident: "session-test", session });
      await raw.send({ r: 1, o: obj.id, m: "touch" });
      await raw.until((v) => (v as { r?: number }).r === 1);
      return raw;
    };
    // Lost, then resumed: nothing ends, even once the grace period is over.
    const first = await attach();
    first.close();
    await first.closed;
    const second = await attach();
    expireSessions(); // As if the grace period had passed: the session has a connection.
    assertEquals(ended, []);
    // Lost with no connection left: it ends once the grace period is over.
    second.close();
    await second.closed;
    assertEquals(ended, []);
    assert(await eventually(() => (expireSessions(), ended.length === 1)), "not ended");
    assertEquals(ended, [session]);
    // Ended by its client: at once, with no grace period.
    const third = await attach();
    await third.send({ end: true });
    third.close();
    assert(await eventually(() => ended.length === 2), "not ended by its client");
  } finally {
    obj.release();
    hub.release();
  }
});

Deno.test("FlowGate: sends run in order once there is room; a timed wait rejects, a non-blocking one is queued", async () => {
  let room = false;
  let open!: () => void;
  const gate = new FlowGate(() => room, () => new Promise<void>((r) => (open = r)));
  const ran: string[] = [];
  const onTimeout = () => new RangeError("timed out");
  const blocking = gate.pass(() => ran.push("a"), { timeout: null, onTimeout });
  const nowait = gate.pass(() => ran.push("b"), { timeout: 0, onTimeout });
  const timed = gate.pass(() => ran.push("c"), { timeout: 10, onTimeout });
  const ctl = new AbortController();
  const aborted = gate.pass(() => ran.push("d"), { timeout: null, signal: ctl.signal, onTimeout });
  const abortedCheck = assertRejects(() => aborted!, Error, "aborted");
  const timedCheck = assertRejects(() => timed!, RangeError, "timed out");
  ctl.abort(new Error("aborted"));
  await nowait; // Resolved at once: it runs later, in order.
  await timedCheck;
  await abortedCheck;
  assertEquals(ran, []);
  room = true;
  open();
  await blocking;
  assertEquals(ran, ["a", "b"]);
  // With room and nothing waiting, a send runs at once.
  assertEquals(gate.pass(() => ran.push("e"), { timeout: null, onTimeout }), undefined);
  assertEquals(ran, ["a", "b", "e"]);
});

// Found by the fuzz test: a semaphore released by a negative amount over the
// object server left its word where every waiter spun, and its host hung.
Deno.test("Semaphore: a remote call with arguments out of range fails that call, the semaphore is as it was", async () => {
  await using sem = new Semaphore(2);
  const d = await sem[TO_DESCRIPTOR]();
  await using raw = await rawClient(d.address, state().authkey);
  await raw.send({ op: "attach", ident: "bad-args" });
  const bad = [
    { m: "release", a: [-(2 ** 31)] },
    { m: "release", a: [0.5] },
    { m: "acquire", a: ["forever"] },
  ];
  for (const [i, c] of bad.entries()) {
    await raw.send({ r: i + 1, o: d.id, ...c });
    await raw.until((v) => (v as { r?: number }).r === i + 1);
    const reply = raw.received.at(-1) as { e?: { name: string } };
    assertEquals(reply.e?.name, "TypeError", `${c.m}(${c.a})`);
  }
  assertEquals(await sem.getValue(), 2);
  assert(await sem.acquire({ timeout: 1000 }));
  await sem.release();
});

// Issue #12's leftover: push listeners were not registered again after a
// session reconnected, so a queue closed elsewhere went on taking puts here.
Deno.test("RemoteRef: push listeners follow a reconnected session (a queue closed elsewhere refuses puts)", async () => {
  await using m = await Manager.start();
  const q1 = await m.Queue<string>();
  const d = await m.dict<string, unknown>();
  await d.set("q", q1);
  await q1.put("a"); // listens for the queue's close from here on
  await q1.qsize();
  loseClient(m.address as Address);
  await q1.qsize(); // reconnects, same session
  const q2 = await d.get("q") as Queue<string>;
  await q2.close();
  await q2.qsize(); // its reply comes after the host's "closed" push, on the same connection
  await assertRejects(() => q1.put("x"), QueueClosedError);
});
