import {
  assert,
  assertEquals,
  assertFalse,
  assertInstanceOf,
  assertRejects,
  assertStrictEquals,
  assertStringIncludes,
} from "@std/assert";
import {
  AuthenticationError,
  Client,
  type Connection,
  EOFError,
  Listener,
  Pipe,
  Process,
  ProcessError,
  Queue,
  type StartMethod,
  wait,
} from "../mod.ts";
import {
  echo,
  fillMessage,
  fillThenChange,
  fillThenRefused,
  messageDiff,
  readAsSent,
  readOnceTold,
  receiveMixed,
  receiveMixedReport,
  receiveWaiting,
  sendNumbered,
  sendSevensWhenTold,
  sendThenChange,
  sendUnserializable,
  sendWhenTold,
  sink,
  source,
  tightSender,
  windowFiller,
} from "./fixtures/pipe_targets.ts";
import { delay } from "../_internal/base/async.ts";
import { messageBuffer, spareBuffers } from "../_internal/wire/spare_buffers.ts";
import { rawClient } from "./_raw.ts";
import { EOF, MessageInbox } from "../_internal/primitives/inbox.ts";
import { placementEnded } from "../_internal/wire/placements.ts";
import { toAddress, toAuthkey } from "../_internal/transport/address.ts";
import { denoRun, fixturePath, startFixture, testBoth } from "./_helpers.ts";
import { asHanded, handThenChange } from "./fixtures/changing.ts";

const module = new URL("./fixtures/pipe_targets.ts", import.meta.url).href;

/**
 * Starts `target(there, ...args)` in a child on a fresh pipe, runs `body`
 * with this end (and the child's, still open here), then closes this end
 * and checks that the child exited with 0.
 */
async function withPipeChild(
  startMethod: StartMethod,
  // deno-lint-ignore no-explicit-any
  target: (conn: Connection, ...args: any[]) => Promise<unknown>,
  args: unknown[],
  body: (here: Connection, there: Connection) => Promise<void>,
): Promise<void> {
  const [here, there] = Pipe();
  await using p = new Process({ target, args: [there, ...args], module, startMethod });
  await p.start();
  await body(here, there);
  here.close();
  await p.join();
  assertEquals(p.exitCode, 0);
}

const CLONE_KINDS: unknown[] = [
  { a: [1, "two", null, true] },
  new Map<unknown, unknown>([[1, new Set(["x"])]]),
  new Date(123),
  -0,
  NaN,
  2n ** 70n,
  new Float32Array([1.5, 2.5]),
  /ab+c/i,
  undefined,
  "ünïcødé 😀",
];

testBoth(
  "Pipe: values of every structured-clone kind round-trip through a child",
  async (startMethod) => {
    await withPipeChild(startMethod, echo, [], async (here) => {
      for (const v of CLONE_KINDS) {
        await here.send(v);
        assertEquals(await here.recv(), v);
      }
      const err = new TypeError("as data");
      await here.send(err);
      const back = await here.recv();
      assertInstanceOf(back, TypeError);
    });
  },
);

testBoth(
  "Pipe: a value changed after an unawaited send arrives as it was sent",
  async (startMethod) => {
    await withPipeChild(startMethod, sendThenChange, [], async (here) => {
      for (const v of asHanded()) assertEquals(await here.recv(), v);
      assertEquals(await here.recv(), "end");
    });
  },
);

testBoth(
  "Pipe: a value changed after an unawaited send to a child arrives as it was sent",
  async (startMethod) => {
    await withPipeChild(startMethod, echo, [], async (here) => {
      await handThenChange((v) => here.send(v));
      for (const v of asHanded()) assertEquals(await here.recv(), v);
    });
  },
);

// A send that waits for room (the reader holds a window unread) still
// takes its value at the call: a change made while it waits stays here,
// and a value that cannot be cloned is refused at once.

/** `withPipeChild` with a second pipe, whose child end is the target's second argument. */
async function withToldChild(
  startMethod: StartMethod,
  target: (conn: Connection, told: Connection) => Promise<unknown>,
  body: (here: Connection, told: Connection) => Promise<void>,
): Promise<void> {
  const [toldHere, toldThere] = Pipe();
  await withPipeChild(startMethod, target, [toldThere], (here) => body(here, toldHere));
  toldHere.close();
}

/** Reads what {@link fillThenChange} sends, once told: everything as it was sent. */
async function readFilledChanges(conn: Connection, told: Connection): Promise<void> {
  assertEquals(await told.recv(), "changed");
  assertEquals(await conn.recv(), windowFiller());
  for (const v of asHanded()) assertEquals(await conn.recv(), v);
  assertEquals(await conn.recv(), "end");
}

/** Reads what {@link fillThenRefused} sends: told of the refusal before anything is read. */
async function readFilledRefusal(conn: Connection, told: Connection): Promise<void> {
  assertEquals(await told.recv(), "DataCloneError");
  assertEquals(await conn.recv(), windowFiller());
  assertEquals(await conn.recv(), "still open");
}

for (
  const [what, writer, reader] of [
    ["a value changed as it waits arrives as sent", fillThenChange, readFilledChanges],
    ["a function is refused at the call; the pipe goes on", fillThenRefused, readFilledRefusal],
  ] as const
) {
  Deno.test(`Pipe, full, two ends here: ${what}`, async () => {
    const [here, there] = Pipe();
    const [toldHere, toldThere] = Pipe();
    const writing = writer(here, toldHere);
    await reader(there, toldThere);
    await writing;
    for (const c of [here, there, toldHere, toldThere]) c.close();
  });

  testBoth(`Pipe, full, a child writing: ${what}`, async (startMethod) => {
    await withToldChild(startMethod, writer, reader);
  });
}

testBoth(
  "Pipe, full, a child reading: a value changed as it waits arrives as sent",
  async (startMethod) => {
    await withToldChild(startMethod, readOnceTold, async (here, told) => {
      await fillThenChange(here, told);
      assertEquals(await here.recv(), readAsSent());
    });
  },
);

testBoth(
  "Pipe: a child's send of a function is refused at the call; the pipe goes on",
  async (startMethod) => {
    await withPipeChild(startMethod, sendUnserializable, [], async (here) => {
      assertEquals(await here.recv(), "DataCloneError");
      assertEquals(await here.recv(), "still open");
    });
  },
);

testBoth(
  "Pipe: messages never merge or split, and bytes keep their boundaries",
  async (startMethod) => {
    await withPipeChild(startMethod, echo, [], async (here) => {
      for (let i = 0; i < 500; i++) await here.send(i);
      for (let i = 0; i < 50; i++) await here.sendBytes(new Uint8Array(i).fill(i));
      for (let i = 0; i < 500; i++) assertEquals(await here.recv(), i);
      for (let i = 0; i < 50; i++) assertEquals(await here.recvBytes(), new Uint8Array(i).fill(i));
    });
  },
);

testBoth("Pipe: a 64 MiB buffer crosses to a child and back whole", async (startMethod) => {
  await withPipeChild(startMethod, echo, [], async (here) => {
    const big = new Uint8Array(64 << 20);
    for (let i = 0; i < big.length; i += 4096) big[i] = i >> 12;
    await here.sendBytes(big);
    const back = await here.recvBytes();
    assertEquals(back.length, big.length);
    for (let i = 0; i < big.length; i += 4096) assert(back[i] === big[i], `byte ${i}`);
  });
});

testBoth("Pipe: poll sees only whole messages; EOF after the child closes", async (startMethod) => {
  const [here, there] = Pipe();
  await using p = new Process({ target: source, args: [there, 4, 8 << 20], module, startMethod });
  assertFalse(await here.poll());
  await p.start();
  for (let i = 0; i < 4; i++) {
    assert(await here.poll(null));
    // A message that poll reported is there whole: no waiting, full size.
    assertEquals((await here.recvBytes()).length, 8 << 20);
  }
  await assertRejects(() => here.recv(), EOFError, "the other end is closed");
  await p.join();
  here.close();
});

testBoth("Pipe: a child that dies holding its end gives EOF, not a hang", async (startMethod) => {
  const [here, there] = Pipe();
  await using p = new Process({ target: sink, args: [there, 1_000_000], module, startMethod });
  await p.start();
  await here.sendBytes(new Uint8Array(10));
  p.kill();
  await p.join();
  await assertRejects(() => here.recv(), EOFError);
  here.close();
});

testBoth("Pipe: sendBytes by offset and size to a child", async (startMethod) => {
  await withPipeChild(startMethod, sink, [2], async (here) => {
    const buf = new Uint8Array(100);
    await here.sendBytes(buf, 10, 20);
    await here.sendBytes(buf.buffer, 90);
    assertEquals(await here.recv(), 30);
  });
});

// Large messages received with recvBytesInto have their buffer used again
// for the next one (spare_buffers.ts): a message kept from recvBytes, the
// sender's own buffer, and every message received must stay as sent.
const MIXED_N = 24, MIXED_SIZE = 300_000;

for (const where of ["in a child", "from a child"] as const) {
  testBoth(
    `Pipe: recvBytesInto and recvBytes mixed ${where}: every message whole, kept ones unchanged`,
    async (startMethod) => {
      const toChild = where === "in a child";
      const target = toChild ? receiveMixedReport : sendNumbered;
      await withPipeChild(startMethod, target, [MIXED_N, MIXED_SIZE], async (here) => {
        if (toChild) {
          await sendNumbered(here, MIXED_N, MIXED_SIZE);
          assertEquals(await here.recv(), []);
        } else {
          assertEquals(await receiveMixed(here, MIXED_N, MIXED_SIZE), []);
        }
      });
    },
  );
}

testBoth(
  "Pipe: a child waiting in recvBytesInto gets each large message whole at its offset, no spare buffer in between",
  async (startMethod) => {
    await withPipeChild(startMethod, receiveWaiting, [4, MIXED_SIZE], async (here) => {
      const buf = new Uint8Array(MIXED_SIZE);
      for (let k = 0; k < 4; k++) {
        assertEquals(await here.recv(), "ready");
        await here.sendBytes(fillMessage(buf, k));
      }
      // A subprocess reads each straight into the buffer waiting for it; a
      // worker's arrive by message, in memory never given back as a spare.
      assertEquals(await here.recv(), { wrong: [], spares: [] });
    });
  },
);

testBoth(
  "Pipe: a parent waiting in recvBytesInto gets each large message from a child whole at its offset, no spare buffer in between",
  async (startMethod) => {
    await withPipeChild(startMethod, sendWhenTold, [4, MIXED_SIZE], async (here) => {
      const into = new Uint8Array(MIXED_SIZE + 3);
      // Takes every spare buffer, so that none is there but what this leaves.
      spareBuffers().forEach((n) => messageBuffer(n));
      for (let k = 0; k < 4; k++) {
        const got = here.recvBytesInto(into, 3);
        await here.send("go");
        assertEquals(await got, MIXED_SIZE);
        assertEquals(messageDiff(into.subarray(3), k, MIXED_SIZE), -1);
      }
      // Each was read straight into `into`: a child's calls to its parent
      // come over a socket, a worker thread's too.
      assertEquals(spareBuffers(), []);
    });
  },
);

// Subprocess only: a worker child's message arrives whole, by postMessage,
// and a thread cannot be stopped mid-send.
Deno.test(
  "Pipe: a subprocess child killed mid-message, as it is read into the parent's waiting buffer, ends that recvBytesInto with EOFError",
  async () => {
    // Far more than the socket's buffers hold: the child stopped as the
    // first bytes arrive has sent only a part of it.
    const size = 128 << 20;
    const [here, there] = Pipe();
    await using p = new Process({
      target: sendSevensWhenTold,
      args: [there, size],
      module,
      startMethod: "subprocess",
    });
    await p.start();
    const into = new Uint8Array(size);
    const got = here.recvBytesInto(into);
    const outcome = got.then(() => "resolved", () => "rejected");
    await here.send("go");
    while (into[0] === 0) await delay(1);
    Deno.kill(p.pid!, "SIGSTOP");
    // Stopped mid-message: the receive waits for the rest.
    assertEquals(await Promise.race([outcome, delay(200).then(() => "waiting")]), "waiting");
    p.kill();
    await assertRejects(() => got, EOFError);
    await p.join();
    assertEquals(p.exitCode, -9);
    assertEquals(into[size - 1], 0);
    // The pipe is done with: a new receive ends at once, nothing left held.
    await assertRejects(() => here.recvBytesInto(into), EOFError);
    assertEquals(spareBuffers(), []);
    here.close();
  },
);

// The worker method's counterpart: its messages arrive whole, so the kill
// lands while the parent waits with its buffer and nothing is in flight.
Deno.test("Pipe: a worker child killed while the parent waits in recvBytesInto ends that receive with EOFError, its buffer untouched", async () => {
  const [here, there] = Pipe();
  await using p = new Process({
    target: sendSevensWhenTold,
    args: [there, MIXED_SIZE],
    module,
    startMethod: "worker",
  });
  await p.start();
  const into = new Uint8Array(MIXED_SIZE);
  const got = here.recvBytesInto(into);
  p.kill();
  await assertRejects(() => got, EOFError);
  await p.join();
  assertEquals(p.exitCode, -9);
  assert(into.every((x) => x === 0), "the buffer was written");
  assertEquals(spareBuffers(), []);
  here.close();
});

Deno.test("Pipe: recvBytesInto between two ends here never takes the sender's buffer", async () => {
  const [a, b] = Pipe();
  const sending = sendNumbered(a, MIXED_N, MIXED_SIZE);
  assertEquals(await receiveMixed(b, MIXED_N, MIXED_SIZE), []);
  await sending;
  // The sender's buffer, given to every send, is still its own: a send
  // from it now arrives as it is, not as a later message overwrote it.
  const mine = new Uint8Array(MIXED_SIZE).fill(9);
  await a.sendBytes(mine);
  const into = new Uint8Array(MIXED_SIZE);
  await b.recvBytesInto(into);
  await a.sendBytes(new Uint8Array(MIXED_SIZE).fill(4));
  assertEquals((await b.recvBytes())[0], 4);
  assert(mine.every((x) => x === 9), "the sender's buffer was overwritten");
  assert(into.every((x) => x === 9));
  a.close();
  b.close();
});

Deno.test("Connection.sendBytes rejects bad offsets and sizes", async () => {
  const [a, b] = Pipe();
  const buf = new Uint8Array(8);
  await assertRejects(() => a.sendBytes(buf, -1), RangeError, "offset -1 is outside");
  await assertRejects(() => a.sendBytes(buf, 9), RangeError);
  await assertRejects(() => a.sendBytes(buf, 4, 5), RangeError, "exceeds the buffer of 8 bytes");
  await a.sendBytes(buf, 8, 0);
  assertEquals(await b.recvBytes(), new Uint8Array(0));
  a.close();
  b.close();
});

Deno.test("Connection: recvBytes limits, recvBytesInto, and bytes vs values", async () => {
  const [a, b] = Pipe();
  await a.sendBytes(new Uint8Array([1, 2, 3, 4]));
  await assertRejects(() => b.recvBytes(3), RangeError, "more than maxlength 3");
  const into = new Uint8Array(6);
  // A wrong buffer or offset is refused, the message left unread.
  await assertRejects(() => b.recvBytesInto(into, 1.5), RangeError, "offset 1.5");
  await assertRejects(() => b.recvBytesInto(into, NaN), RangeError, "offset NaN");
  await assertRejects(() => b.recvBytesInto(into, 3), RangeError, "do not fit at offset 3");
  await assertRejects(
    () => b.recvBytesInto([0, 0, 0, 0] as unknown as Uint8Array),
    TypeError,
    "not an ArrayBufferView",
  );
  assertEquals(await b.recvBytesInto(into, 2), 4);
  assertEquals(into, new Uint8Array([0, 0, 1, 2, 3, 4]));
  await a.send({ x: 1 });
  await assertRejects(() => b.recvBytes(), TypeError, "sent with send()");
  assertEquals(await b.recv(), { x: 1 }, "the message was left unread");
  await assertRejects(() => a.send(() => 1), DOMException);
  a.close();
  b.close();
});

Deno.test("Connection: wrong-direction and closed use errors", async () => {
  const [reader, writer] = Pipe(false);
  assertEquals([reader.readable, reader.writable, writer.readable, writer.writable], [
    true,
    false,
    false,
    true,
  ]);
  await assertRejects(() => reader.send(1), ProcessError, "read-only");
  await assertRejects(() => writer.recv(), ProcessError, "write-only");
  await assertRejects(() => writer.poll(), ProcessError, "write-only");
  writer.close();
  writer.close();
  assert(writer.closed);
  await assertRejects(() => writer.send(1), ProcessError, "the connection is closed");
  await assertRejects(() => reader.recv(), EOFError);
  reader.close();
});

Deno.test("wait() returns the ready connections and exited processes", async () => {
  const [a, b] = Pipe();
  const [c, d] = Pipe();
  assertEquals(await wait([a, c], 20), []);
  await d.send("ready");
  assertEquals(await wait([a, c]), [c]);
  const done = Promise.resolve();
  assertEquals(await wait([a, done]), [done]);
  for (const x of [a, b, c, d]) x.close();
});

Deno.test("Listener and Client: authenticated connection, values and bytes both ways", async () => {
  await using listener = new Listener({ authkey: "a shared key, 16+ bytes" });
  const accepting = listener.accept();
  await using client = await Client(listener.address, { authkey: "a shared key, 16+ bytes" });
  await using server = await accepting;
  await client.send(new Map([[1, 2]]));
  assertEquals(await server.recv(), new Map([[1, 2]]));
  await server.sendBytes(new Uint8Array([9, 8]));
  assertEquals(await client.recvBytes(), new Uint8Array([9, 8]));
  client.close();
  await assertRejects(() => server.recv(), EOFError);
});

Deno.test("Listener and Client: a large message recvBytesInto waits for is read straight into its buffer", async () => {
  await using listener = new Listener();
  const accepting = listener.accept();
  await using client = await Client(listener.address);
  await using server = await accepting;
  const size = MIXED_SIZE, into = new Uint8Array(size + 3);
  // Takes every spare buffer, so that none is there but what this leaves.
  spareBuffers().forEach((n) => messageBuffer(n));
  for (let k = 0; k < 3; k++) {
    const got = server.recvBytesInto(into, 3);
    await client.sendBytes(fillMessage(new Uint8Array(size), k));
    assertEquals(await got, size);
    assertEquals(messageDiff(into.subarray(3), k, size), -1);
  }
  assertEquals(spareBuffers(), []);
  // One that arrived before the call is read into a buffer of its own,
  // copied, and that buffer kept for the next message of its size.
  await client.sendBytes(fillMessage(new Uint8Array(size), 3));
  assert(await server.poll(null));
  assertEquals(await server.recvBytesInto(into, 3), size);
  assertEquals(messageDiff(into.subarray(3), 3, size), -1);
  assertEquals(spareBuffers().length, 1);
  spareBuffers().forEach((n) => messageBuffer(n));
});

Deno.test("MessageInbox: what arrives while a message is read into the reader's buffer waits behind it, and goes on if that one never comes", () => {
  const inbox = new MessageInbox();
  const room = new Uint8Array(10);
  const next = () => {
    const m = inbox.peek();
    if (m === undefined || m === EOF) return m;
    inbox.take();
    return m.bytes ?? m.value;
  };
  // Arrives: it is taken first, then what came from elsewhere meanwhile.
  inbox.offer(room);
  const placed = inbox.place(4)!;
  assertStrictEquals(placed.buffer, room.buffer);
  assertEquals(inbox.place(4), undefined);
  inbox.push({ value: "from elsewhere" });
  assertEquals(inbox.peek(), undefined);
  inbox.push({ bytes: placed });
  assertStrictEquals(next(), placed);
  assert(inbox.placed(placed));
  assertEquals(next(), "from elsewhere");
  placementEnded(placed); // Arrived: nothing more happens.
  assertEquals(inbox.peek(), undefined);
  // Never comes (its connection broke, or it went elsewhere).
  inbox.offer(room);
  const lost = inbox.place(4)!;
  inbox.push({ value: "behind it" });
  assertEquals(inbox.peek(), undefined);
  placementEnded(lost);
  assertEquals(next(), "behind it");
  // Ended meanwhile: what waited behind it, then EOF.
  inbox.offer(room);
  inbox.place(4);
  inbox.push({ value: "last" });
  inbox.end();
  assertEquals(next(), "last");
  assertEquals(inbox.peek(), EOF);
});

Deno.test("Listener and Client: a sender gone mid-message ends the recvBytesInto reading it with EOFError", async () => {
  const key = "a shared key, 16+ bytes";
  await using listener = new Listener({ authkey: key });
  const accepting = listener.accept();
  await using raw = await rawClient(toAddress(listener.address, "address"), toAuthkey(key));
  await using server = await accepting;
  const into = new Uint8Array(MIXED_SIZE);
  const receiving = server.recvBytesInto(into);
  // A bytes message's frame (tag, header `null`, bytes), cut off a third of
  // the way through its bytes.
  const frame = new Uint8Array(4 + 9 + MIXED_SIZE / 3);
  new DataView(frame.buffer).setUint32(0, 9 + MIXED_SIZE);
  frame.set([0x42, 0, 0, 0, 4, ...new TextEncoder().encode("null")], 4);
  frame.fill(7, 13);
  await raw.write(frame);
  raw.close();
  await assertRejects(() => receiving, EOFError);
  // What came went straight into the waiting buffer (the path under test).
  assertEquals(into[0], 7);
});

/**
 * A Listener/Client connection whose client has queued far more than the
 * socket's buffers, the reader's window and its own hold (two 8 MiB
 * strings): what `send` sends waits for the server to read. Then the
 * server reads the two fillers, `read` reads the rest, and every send is
 * awaited.
 */
async function withFullSocket(
  send: (client: Connection) => Promise<Promise<void>[]>,
  read: (server: Connection) => Promise<void>,
): Promise<void> {
  await using listener = new Listener();
  const accepting = listener.accept();
  await using client = await Client(listener.address);
  await using server = await accepting;
  const filler = "f".repeat(8 << 20);
  const sends = [client.send(filler), client.send(filler)];
  sends.push(...await send(client));
  for (let i = 0; i < 2; i++) assertEquals(await server.recv(), filler);
  await read(server);
  await Promise.all(sends);
}

Deno.test("Listener and Client, full: a value changed as it waits arrives as sent", async () => {
  await withFullSocket(async (client) => {
    const sends: Promise<void>[] = [];
    await handThenChange((v) => {
      sends.push(client.send(v));
      return Promise.resolve();
    });
    return sends;
  }, async (server) => {
    for (const v of asHanded()) assertEquals(await server.recv(), v);
  });
});

Deno.test("Listener and Client, full: a function is refused at the call; the connection goes on", async () => {
  await withFullSocket(async (client) => {
    const refused = await assertRejects(() => client.send(() => 1));
    assertEquals((refused as Error).name, "DataCloneError");
    return [client.send("still open")];
  }, async (server) => {
    assertEquals(await server.recv(), "still open");
  });
});

Deno.test("Listener and Client: a wrong key fails with AuthenticationError on both sides", async () => {
  const rejected = Promise.withResolvers<Error>();
  await using listener = new Listener({
    authkey: "the right key, 16+ bytes",
    onRejected: rejected.resolve,
  });
  await assertRejects(
    () => Client(listener.address, { authkey: "a wrong key, 16+ bytes" }),
    AuthenticationError,
  );
  assertInstanceOf(await rejected.promise, AuthenticationError);
});

Deno.test("Listener: a client that stalls or sends garbage does not stop others", async () => {
  const rejected = Promise.withResolvers<Error>();
  await using listener = new Listener({
    authkey: "the listener key 0123",
    onRejected: rejected.resolve,
  });
  const stalled = await Deno.connect({
    transport: "unix",
    path: (listener.address as { path: string }).path,
  });
  const garbage = await Deno.connect({
    transport: "unix",
    path: (listener.address as { path: string }).path,
  });
  await garbage.write(new Uint8Array([0, 0, 0, 2, 0xde, 0xad]));
  await using good = await Client(listener.address, { authkey: "the listener key 0123" });
  // The garbage client fails; the good one is what accept() gives.
  const conn = await listener.accept();
  conn.close();
  assertInstanceOf(await rejected.promise, AuthenticationError);
  stalled.close();
  garbage.close();
  good.close();
});

Deno.test("Listener and Client between two separate deno run processes", async () => {
  const { child: server, line, more, stdout: lines } = await startFixture("listener_main.ts", [
    "server",
    "s3cret s3cret s3cret",
  ]);
  const port = /port (\d+)/.exec(line)![1];
  const good = await denoRun([
    fixturePath("listener_main.ts"),
    "client",
    port,
    "s3cret s3cret s3cret",
  ]);
  assertEquals(good.stdout.trim(), "echo hello");
  const bad = await denoRun([
    fixturePath("listener_main.ts"),
    "client",
    port,
    "a wrong key, 16+ bytes",
  ]);
  assertEquals(bad.stdout.trim(), "client failed: AuthenticationError");
  for (let i = 0; i < 2; i++) {
    const again = await denoRun([
      fixturePath("listener_main.ts"),
      "client",
      port,
      "s3cret s3cret s3cret",
    ]);
    assertEquals(again.stdout.trim(), "echo hello");
  }
  let out = more;
  while (true) {
    const { value, done } = await lines.read();
    if (done) break;
    out += value;
  }
  assertStringIncludes(out, "rejected: AuthenticationError");
  assertStringIncludes(out, "served 3");
  assertEquals((await server.status).code, 0);
});

Deno.test("a Listener/Client connection cannot be passed to a child", async () => {
  await using listener = new Listener();
  const accepting = listener.accept();
  await using client = await Client(listener.address);
  await using server = await accepting;
  const p = new Process({ target: echo, args: [client], module });
  await assertRejects(() => p.start(), TypeError, "use Pipe()");
  server.close();
});

testBoth(
  "Pipe: closing the parent's copy of the child's end (Python's idiom) leaves the child's open",
  async (startMethod) => {
    await withPipeChild(startMethod, echo, [], async (here, there) => {
      there.close();
      await here.send("still connected");
      assertEquals(await here.recv(), "still connected");
    });
  },
);

testBoth(
  "Pipe: send with transfer moves a buffer to a worker child, copies it to a subprocess",
  async (startMethod) => {
    await withPipeChild(startMethod, echo, [], async (here) => {
      const buf = new Uint8Array(1 << 20).fill(3);
      await here.send(buf, { transfer: [buf.buffer] });
      assertEquals(
        buf.byteLength,
        startMethod === "worker" ? 0 : 1 << 20,
        "detached only when moved",
      );
      const back = await here.recv() as Uint8Array;
      assertEquals(back.length, 1 << 20);
      assertEquals(back[12345], 3);
    });
  },
);

Deno.test("Pipe: send with transfer between two ends in this process moves the buffer", async () => {
  const [a, b] = Pipe();
  const buf = new Float64Array([1.5, 2.5]);
  await a.send({ data: buf }, { transfer: [buf.buffer] });
  assertEquals(buf.length, 0);
  assertEquals(await b.recv(), { data: new Float64Array([1.5, 2.5]) });
  a.close();
  b.close();
});

// Issue #12, item 3, for pipes: a sender that never yields to the event loop
// sent nothing until it stopped, and then everything at once; nothing bounded
// what waits for a reader that does not read.
testBoth(
  "Connection.send() in a tight loop in a child: a reader that does not read holds a bounded backlog",
  async (startMethod) => {
    const n = 20_000, size = 1024;
    const [here, there] = Pipe();
    await using progress = new Queue<number>();
    await using p = new Process({
      target: tightSender,
      args: [there, progress, n, size],
      module,
      startMethod,
    });
    await p.start();
    // The sender's loop runs, and reports, while nothing here reads the pipe:
    // wait until it has sent everything, or until it reports nothing more for
    // a while (it waits for this reader: the bound below holds at any time).
    assert(await progress.get({ timeout: 60_000 }) >= 0);
    while (true) {
      const i = await progress.get({ timeout: 2000 }).catch(() => -1);
      if (i < 0 || i >= n - 100) break;
    }
    let backlog = 0;
    let m: unknown;
    while (await here.poll(0) && (m = await here.recv()) !== "done") {
      assertEquals((m as { i: number }).i, backlog++);
    }
    // README, flow control: about 2 MiB at most waits for a reader.
    assert(backlog * size <= 4 * (1 << 20), `${backlog} messages of ${size} bytes waited`);
    // Reading on, the sender goes on: every message, in order.
    let next = backlog;
    while (m !== "done") {
      m = await here.recv();
      if (m !== "done") assertEquals((m as { i: number }).i, next++);
    }
    assertEquals(next, n);
    here.close();
    await p.join();
    assertEquals(p.exitCode, 0);
  },
);

Deno.test("Client.sendBytes() to a Listener connection that does not read: the sender waits, nothing is lost", async () => {
  await using listener = new Listener();
  const accepting = listener.accept();
  await using client = await Client(listener.address);
  await using server = await accepting;
  const size = 64 * 1024, total = 1024; // 64 MiB in all
  const buf = new Uint8Array(size);
  let sent = 0;
  const sending = (async () => {
    for (let i = 0; i < total; i++) {
      new DataView(buf.buffer).setUint32(0, i);
      await client.sendBytes(buf);
      sent++;
    }
  })();
  // Nothing reads: wait until everything is sent, or nothing more is for a while.
  for (let last = -1, still = 0; sent < total && still < 10; await delay(100)) {
    still = sent === last ? still + 1 : 0;
    last = sent;
  }
  // A window here, one at the sender and the sockets' own buffers: not 64 MiB.
  assert(sent * size <= 24 * (1 << 20), `${sent * size} bytes went to a reader that reads nothing`);
  for (let i = 0; i < total; i++) {
    const m = await server.recvBytes();
    assertEquals(new DataView(m.buffer, m.byteOffset).getUint32(0), i);
  }
  await sending;
});
