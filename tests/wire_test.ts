// The wire format: structured-clone round trips on both encodings, errors as
// data, and frames that are bounded and never merge.
import { assertEquals, assertInstanceOf, assertRejects, assertStrictEquals } from "@std/assert";
import { decodeAsync, encode } from "../_internal/wire/codec.ts";
import { errorFromData, errorToData } from "../_internal/wire/error_data.ts";
import { FrameError, frameOf, FrameReader } from "../_internal/wire/framing.ts";
import { ProcessError, RemoteError } from "../mod.ts";

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
