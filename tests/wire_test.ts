// The wire format: structured-clone round trips on both encodings, errors as
// data, and frames that are bounded and never merge.
import {
  assert,
  assertEquals,
  assertInstanceOf,
  assertRejects,
  assertStrictEquals,
} from "@std/assert";
import { decodeAsync, encode } from "../_internal/wire/codec.ts";
import { errorFromData, errorToData } from "../_internal/wire/error_data.ts";
import {
  FrameError,
  frameOf,
  FrameReader,
  FrameWriter,
  HEADER,
} from "../_internal/wire/framing.ts";
import { setLimits } from "../_internal/wire/limits.ts";
import {
  copyToMessageBuffer,
  giveBackBuffer,
  messageBuffer,
  SPARE_FROM,
  spareBuffers,
} from "../_internal/wire/spare_buffers.ts";
import { Client, Listener, Pipe, Process, ProcessError, RemoteError } from "../mod.ts";
import { echo } from "./fixtures/pipe_targets.ts";
import { testBoth } from "./_helpers.ts";

const PIPE_TARGETS = new URL("./fixtures/pipe_targets.ts", import.meta.url).href;

/** A frame with room for its header, then `payload`. */
function frameWith(payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(HEADER + payload.length);
  out.set(payload, HEADER);
  return out;
}

async function roundTrip<T>(value: T): Promise<T> {
  return await decodeAsync(await encode(value)) as T;
}

Deno.test("wire round-trips JSON-shaped values exactly", async () => {
  const v = { a: 1, b: "two", c: [true, null, { d: 1.5 }], e: "ü€😀" };
  assertEquals(await roundTrip(v), v);
  assertEquals(
    (await encode(v))[0],
    0x4a,
    "plain values take the JSON fast path",
  );
});

Deno.test("wire round-trips every structured-clone kind", async () => {
  const cyclic: Record<string, unknown> = { name: "self" };
  cyclic.self = cyclic;
  const values: unknown[] = [
    undefined,
    NaN,
    -0,
    Infinity,
    123n,
    new Date(5),
    /re/gi,
    new Map<unknown, unknown>([[1, { x: new Set([2]) }]]),
    new Uint8Array([1, 2, 3]),
    new Float64Array([0.5]),
    new ArrayBuffer(4),
    [1, , 3],
    { u: undefined },
    Object.create(null),
  ];
  for (const v of values) assertEquals(await roundTrip(v), v);
  const back = await roundTrip(cyclic);
  assertStrictEquals(back.self, back);
});

Deno.test("wire keeps NaN, -0 and Infinity inside arrays and objects (they leave the JSON path)", async () => {
  for (const odd of [NaN, -0, Infinity, -Infinity]) {
    for (const v of [[1, "a", odd], { n: 1, s: "a", odd }, [{ deep: [odd] }]]) {
      assertEquals(await roundTrip(v), v);
      assertEquals((await encode(v))[0], 0x56, `${Deno.inspect(v)} takes the v8 path`);
    }
  }
  assertEquals((await encode([1, "a", { n: 0, s: "" }]))[0], 0x4a);
});

Deno.test("wire rejects values that cannot be cloned with a DataCloneError", async () => {
  for (const bad of [() => 1, Symbol("s"), { f() {} }]) {
    const err = await assertRejects(() => encode(bad));
    assertInstanceOf(err, DOMException);
    assertEquals(err.name, "DataCloneError");
  }
});

Deno.test("errors cross as data: built-ins as themselves, others as RemoteError, stack and fields kept", () => {
  const cause = new RangeError("inner");
  const err = Object.assign(new TypeError("outer", { cause }), { code: "E_X" });
  const back = errorFromData(structuredClone(errorToData(err)));
  assertInstanceOf(back, TypeError);
  assertEquals(back.message, "outer");
  assertEquals(back.stack, err.stack);
  assertEquals((back as unknown as { code: string }).code, "E_X");
  assertInstanceOf(back.cause, RangeError);

  class ValueError extends Error {
    override name = "ValueError";
  }
  const remote = errorFromData(errorToData(new ValueError("custom")));
  assertInstanceOf(remote, RemoteError);
  assertEquals((remote as RemoteError).remoteName, "ValueError");
  assertInstanceOf(
    errorFromData(errorToData(new ProcessError("lib"))),
    ProcessError,
  );
  assertEquals(errorFromData(errorToData("a string")).message, "a string");
});

function readerOf(bytes: Uint8Array, chunk: number): FrameReader {
  let at = 0;
  return new FrameReader({
    read(p: Uint8Array): Promise<number | null> {
      if (at >= bytes.length) return Promise.resolve(null);
      const n = Math.min(chunk, p.length, bytes.length - at);
      p.set(bytes.subarray(at, at + n));
      at += n;
      return Promise.resolve(n);
    },
  });
}

Deno.test("frames never merge or split, whatever the read sizes", async () => {
  const payloads = [
    new Uint8Array(0),
    new Uint8Array(70_000).fill(7),
    new Uint8Array([1, 2, 3]),
  ];
  const stream = new Uint8Array(payloads.reduce((n, p) => n + p.length + 4, 0));
  let at = 0;
  for (const p of payloads) {
    stream.set(frameOf(p), at);
    at += p.length + 4;
  }
  for (const chunk of [1, 3, 4096, 1 << 20]) {
    const reader = readerOf(stream, chunk);
    for (const p of payloads) assertEquals((await reader.next())?.slice(), p);
    assertEquals(await reader.next(), null);
  }
});

Deno.test("a frame over the bound is refused before anything is allocated", async () => {
  const reader = readerOf(new Uint8Array([0xff, 0xff, 0xff, 0xff]), 16);
  await assertRejects(
    () => reader.next(1024),
    FrameError,
    "exceeds the limit of 1024",
  );
  const truncated = readerOf(frameOf(new Uint8Array(10)).subarray(0, 8), 16);
  await assertRejects(
    () => truncated.next(),
    FrameError,
    "Connection closed mid-frame",
  );
});

Deno.test("the authkey challenge's HMAC-SHA256 matches WebCrypto's", async () => {
  const { hmacSha256, sha256 } = await import("../_internal/transport/sha256.ts");
  const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
  assertEquals(
    hex(sha256(new TextEncoder().encode("abc"))),
    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
  );
  for (const [keyLen, msgLen] of [[32, 32], [1, 0], [64, 55], [65, 56], [100, 1000]]) {
    const key = crypto.getRandomValues(new Uint8Array(keyLen));
    const msg = crypto.getRandomValues(new Uint8Array(msgLen));
    const ck = await crypto.subtle.importKey("raw", key, { name: "HMAC", hash: "SHA-256" }, false, [
      "sign",
    ]);
    const expected = new Uint8Array(await crypto.subtle.sign("HMAC", ck, msg));
    assertEquals(hmacSha256(key, msg), expected, `key ${keyLen} bytes, message ${msgLen} bytes`);
  }
});

/** Collects what a writer writes, in writes of any size. */
function sinkOf(): { writer: { write(p: Uint8Array): Promise<number> }; bytes(): Uint8Array } {
  const chunks: Uint8Array[] = [];
  return {
    writer: {
      write(p) {
        const n = Math.min(p.length, 1 + (chunks.length * 7919) % 5000);
        chunks.push(p.slice(0, n));
        return Promise.resolve(n);
      },
    },
    bytes() {
      const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
      let at = 0;
      for (const c of chunks) (out.set(c, at), at += c.length);
      return out;
    },
  };
}

/**
 * A writer whose writes take a macrotask each and keep only part of what
 * they are given, copied when they complete: bytes changed while a write is
 * in flight would show.
 */
function slowSinkOf(): { writer: { write(p: Uint8Array): Promise<number> }; bytes(): Uint8Array } {
  const sink = sinkOf();
  return {
    writer: {
      write: (p) => new Promise((resolve) => setTimeout(() => resolve(sink.writer.write(p)), 0)),
    },
    bytes: sink.bytes,
  };
}

Deno.test("FrameWriter: messages written in place keep their order among the others, and bytes in flight are never written over", async () => {
  const restore = setLimits({ message: 50_000 });
  try {
    const sink = slowSinkOf();
    const writer = new FrameWriter(sink.writer);
    const expected: Uint8Array[] = [];
    const writes: Promise<void>[] = [];
    const inPlace = (payload: Uint8Array, max = payload.length) => {
      writes.push(writer.writeWith(max, (dest) => (dest.set(payload), payload.length)));
      expected.push(payload);
    };
    for (let turn = 0; turn < 40; turn++) {
      // Sizes that fill the first stage, outgrow it, and pass the in-place bound.
      for (let i = 0; i < 12; i++) {
        const size = (turn * 12 + i) * 37 % 3000;
        inPlace(new Uint8Array(size).fill(turn + i), size + (i % 3) * 100);
      }
      if (turn % 5 === 0) {
        const own = new Uint8Array(500).fill(200 + turn % 50);
        writes.push(writer.write(frameWith(own)));
        expected.push(own);
      }
      if (turn % 7 === 0) inPlace(new Uint8Array(20_000).fill(turn));
      if (turn % 3 === 0) await new Promise((r) => setTimeout(r, 0));
    }
    // One over the limit is refused alone.
    const over = new Uint8Array(60_000);
    await assertRejects(
      () => writer.writeWith(over.length, (dest) => (dest.set(over), over.length)),
      RangeError,
      "exceeds the limit",
    );
    await Promise.all(writes);
    const reader = readerOf(sink.bytes(), 1 << 20);
    for (const [i, payload] of expected.entries()) {
      assertEquals((await reader.next())?.slice(), payload, `message ${i}`);
    }
    assertEquals(await reader.next(), null);
  } finally {
    restore();
  }
});

Deno.test("FrameWriter: a message refused while written in place leaves nothing of it behind", async () => {
  const restore = setLimits({ message: 100 });
  try {
    const sink = sinkOf();
    const writer = new FrameWriter(sink.writer);
    const fill = (n: number, byte: number) => (dest: Uint8Array) => (dest.fill(byte, 0, n), n);
    const first = writer.writeWith(10, fill(10, 1));
    // Within the in-place bound, but over the message limit once written.
    await assertRejects(() => writer.writeWith(200, fill(200, 2)), RangeError, "exceeds the limit");
    const last = writer.writeWith(20, fill(20, 3));
    await Promise.all([first, last]);
    const reader = readerOf(sink.bytes(), 64);
    assertEquals((await reader.next())?.slice(), new Uint8Array(10).fill(1));
    assertEquals((await reader.next())?.slice(), new Uint8Array(20).fill(3));
    assertEquals(await reader.next(), null);
  } finally {
    restore();
  }
});

// Issue #15, item 7: a message over the frame limit was dropped (its sender
// resolved, its reader saw the connection end). It now goes in pieces.
Deno.test("FrameWriter cuts a message longer than a piece into pieces; FrameReader joins them", async () => {
  const restore = setLimits({ piece: 1000, message: 100_000 });
  try {
    const sink = sinkOf();
    const writer = new FrameWriter(sink.writer);
    const big = new Uint8Array(54_321).map((_, i) => i * 31);
    const small = new Uint8Array([9, 8, 7]);
    const head = new Uint8Array(HEADER + 10).fill(5);
    await Promise.all([
      writer.write(frameWith(small)),
      writer.write(frameWith(big)),
      writer.write(head, big), // A prefix and a body, as sendBytes writes them.
      writer.write(frameWith(new Uint8Array(1000 - 8))), // Exactly a piece: one frame.
    ]);
    const stream = sink.bytes();
    for (const chunk of [1, 999, 1 << 20]) {
      const reader = readerOf(stream, chunk);
      assertEquals((await reader.next())?.slice(), small);
      assertEquals((await reader.next())?.slice(), big);
      const joined = new Uint8Array(10 + big.length).fill(5);
      joined.set(big, 10);
      assertEquals((await reader.next())?.slice(), joined);
      assertEquals((await reader.next())?.length, 1000 - 8);
      assertEquals(await reader.next(), null);
    }
    // Every frame on the stream is a piece at most.
    for (let at = 0; at < stream.length;) {
      const len = new DataView(stream.buffer).getUint32(at) & 0x7fffffff;
      assert(len <= 1000, `a frame of ${len} bytes`);
      at += 4 + len;
    }
  } finally {
    restore();
  }
});

Deno.test("FrameReader: a splitter reads a large message's tail into a view it chooses, even late, single frame or pieces", async () => {
  const restore = setLimits({ piece: 300_100, message: 1 << 20 });
  try {
    const sink = sinkOf();
    const writer = new FrameWriter(sink.writer);
    // Each large message's first byte says where its tail starts.
    const message = (size: number, at: number) =>
      new Uint8Array(size).map((_, i) => (i === 0 ? at : (i * 7) & 0xff));
    const single = message(300_000, 5), pieced = message(700_000, 9), whole = message(280_000, 3);
    const small = new Uint8Array([1, 2, 3]);
    for (const m of [single, small, pieced, whole, small]) await writer.write(frameWith(m));
    const stream = sink.bytes();
    for (const chunk of [7, 999, 1 << 20]) {
      const reader = readerOf(stream, chunk);
      const asked: number[] = [];
      let asks = 0, tail = 0, placed: Uint8Array | undefined;
      reader.splitter = {
        wants: (total) => (asked.push(total), total !== whole.length),
        head: (head, total) => {
          asks = 0;
          placed = undefined;
          tail = total - head[0];
          return head[0];
        },
        // Chooses on its third ask: what was read before is copied over.
        place: () => {
          if (++asks < 3) return undefined;
          return placed = new Uint8Array(tail + 4).subarray(2, 2 + tail);
        },
      };
      for (
        const [m, split] of [[single, true], [small, false], [pieced, true], [
          whole,
          false,
        ]] as const
      ) {
        const got = (await reader.next())!;
        if (!split) {
          assertEquals(got.slice(), m);
          assertEquals(reader.tail, undefined);
          continue;
        }
        assertEquals(got, m.subarray(0, m[0]));
        assertEquals(reader.tail, m.subarray(m[0]));
        // Read in one go (a frame read whole), the tail is in a buffer of
        // its own; in several (or in pieces), in the view chosen on the
        // third ask.
        if (chunk === 1 << 20 && m === single) {
          assertEquals([placed, reader.tail!.buffer.byteLength], [undefined, tail]);
        } else assertStrictEquals(reader.tail, placed);
      }
      assertEquals((await reader.next())?.slice(), small);
      assertEquals(reader.tail, undefined);
      assertEquals(await reader.next(), null);
      // Asked only for the large messages, and never about a small one.
      assertEquals(asked, [single.length, pieced.length, whole.length]);
    }
    // A view not of the tail's length, or a head past what was shown, breaks the reader.
    for (
      const [at, view, message] of [[5, 10, "placed in a view of 10"], [
        2000,
        0,
        "outside the 1024",
      ]] as const
    ) {
      const reader = readerOf(stream, 1 << 20);
      reader.splitter = { wants: () => true, head: () => at, place: () => new Uint8Array(view) };
      await assertRejects(() => reader.next(), RangeError, message);
    }
  } finally {
    restore();
  }
});

Deno.test("FrameWriter refuses a message over the limit with a RangeError naming it; FrameReader refuses one declared over it", async () => {
  const restore = setLimits({ piece: 1000, message: 10_000 });
  try {
    const writer = new FrameWriter(sinkOf().writer);
    await assertRejects(
      () => writer.write(frameWith(new Uint8Array(10_001))),
      RangeError,
      "exceeds the limit of 10000 bytes per message",
    );
    // A peer that declares more than the limit, or pieces that do not add up.
    const declared = new Uint8Array(4 + 8 + 4);
    new DataView(declared.buffer).setUint32(0, 0x80000000 + 12);
    new DataView(declared.buffer).setUint32(8, 10_001);
    await assertRejects(() => readerOf(declared, 64).next(), FrameError, "exceeds the limit");
    const short = new Uint8Array(4 + 12);
    new DataView(short.buffer).setUint32(0, 12); // The last piece, but 100 were declared.
    new DataView(short.buffer).setUint32(0, 0x80000000 + 12);
    new DataView(short.buffer).setUint32(8, 100);
    const stream = new Uint8Array([...short, 0, 0, 0, 2, 1, 2]);
    await assertRejects(() => readerOf(stream, 64).next(), FrameError, "fall short");
  } finally {
    restore();
  }
});

testBoth(
  "Pipe: a message longer than a piece crosses to a child and back whole",
  async (startMethod) => {
    // Small pieces here: what this process sends goes in pieces, and what the
    // child sends back, whole, is read here under the same limits.
    const restore = setLimits({ piece: 4096 });
    try {
      const [here, there] = Pipe();
      await using p = new Process({
        target: echo,
        args: [there],
        module: PIPE_TARGETS,
        startMethod,
      });
      await p.start();
      const value = { list: Array.from({ length: 5000 }, (_, i) => `item ${i}`), at: new Date(1) };
      await here.send(value);
      assertEquals(await here.recv(), value);
      const bytes = new Uint8Array(100_000).map((_, i) => i);
      await here.sendBytes(bytes);
      assertEquals(await here.recvBytes(), bytes);
      here.close();
      await p.join();
      assertEquals(p.exitCode, 0);
    } finally {
      restore();
    }
  },
);

Deno.test("Client: a message over the limit rejects its send with a RangeError, and the connection serves on", async () => {
  await using listener = new Listener();
  const accepting = listener.accept();
  await using client = await Client(listener.address);
  await using server = await accepting;
  const restore = setLimits({ message: 50_000 });
  try {
    await assertRejects(() => client.send("x".repeat(60_000)), RangeError, "limit of 50000");
    await assertRejects(
      () => client.sendBytes(new Uint8Array(60_000)),
      RangeError,
      "limit of 50000",
    );
  } finally {
    restore();
  }
  await client.send("after");
  assertEquals(await server.recv(), "after");
});

Deno.test("spare buffers: a large one given back is used again for its size only, once, and bounded", () => {
  // Takes every spare, so that the test starts and ends with none.
  const takeAll = () => spareBuffers().forEach((n) => messageBuffer(n));
  takeAll();
  // Small buffers are never kept.
  giveBackBuffer(messageBuffer(SPARE_FROM - 1));
  assertEquals(spareBuffers(), []);
  // Only what messageBuffer handed out comes back, and only once.
  giveBackBuffer(new Uint8Array(SPARE_FROM));
  assertEquals(spareBuffers(), []);
  const a = messageBuffer(SPARE_FROM + 3);
  a.fill(5);
  giveBackBuffer(a.subarray(10, 20));
  giveBackBuffer(a);
  assertEquals(spareBuffers(), [SPARE_FROM + 3]);
  // Another size gets a new buffer; the same size gets a's, once.
  const other = messageBuffer(SPARE_FROM + 4);
  assert(other.buffer !== a.buffer);
  assert(other.every((x) => x === 0));
  const again = messageBuffer(SPARE_FROM + 3);
  assert(again.buffer === a.buffer);
  assertEquals(again.length, SPARE_FROM + 3);
  assert(messageBuffer(SPARE_FROM + 3).buffer !== a.buffer);
  assertEquals(spareBuffers(), []);
  // A copy is its own buffer, taken back like one read.
  const copy = copyToMessageBuffer(again);
  assert(copy.buffer !== again.buffer && copy[0] === 5);
  giveBackBuffer(copy);
  assertEquals(spareBuffers(), [SPARE_FROM + 3]);
  takeAll();
  // At most 8 are kept, of 8 MiB in all: the oldest go first.
  Array.from({ length: 12 }, () => messageBuffer(1 << 20)).forEach(giveBackBuffer);
  assertEquals(spareBuffers(), Array(8).fill(1 << 20));
  giveBackBuffer(messageBuffer(3 << 20));
  assertEquals(spareBuffers(), [...Array(5).fill(1 << 20), 3 << 20]);
  takeAll();
  assertEquals(spareBuffers(), []);
});
