/**
 * Wire format: how a value becomes bytes and back, with structured-clone
 * semantics.
 *
 * Measured here (bench/wire_bench.ts): JSON encode+parse of a small object,
 * UTF-8 included, costs about 2 µs, `node:v8` serialize+deserialize about
 * 25 µs (`structuredClone`, which yields no bytes, about 8 µs), and
 * importing `node:v8` adds about 15 ms to a child's start.
 * So a payload is JSON whenever JSON round-trips the value exactly (plain
 * objects, arrays, finite numbers, strings, booleans, null), and `node:v8`'s
 * structured-clone serializer, loaded only the first time it is needed,
 * carries everything else (Map, Set, Date, BigInt, typed arrays, cycles,
 * undefined, NaN, -0, errors, …).
 *
 * @module
 */

import { limits } from "./limits.ts";

/** First byte of a payload: which encoding follows. */
const TAG_JSON = 0x4a; // "J"

const TAG_V8 = 0x56; // "V"

const TAG_BYTES = 0x42; // "B"

/**
 * A message made of a small JSON header and raw bytes: what `sendBytes`
 * sends. It skips the structured-clone serializer, so a 64 MiB buffer is
 * copied once into its frame and once out of it, not four times.
 */
export class BytesMessage {
  /** Creates a bytes message. */
  constructor(readonly header: unknown, readonly bytes: Uint8Array) {}
}

/** Objects deeper than this go to the v8 serializer (which handles cycles). */
export const MAX_JSON_DEPTH = 64;

type V8 = {
  serialize(value: unknown): Uint8Array;
  deserialize(bytes: Uint8Array): unknown;
};

let v8: V8 | undefined;

let v8Loading: Promise<V8> | undefined;

/** Loads `node:v8` once; its import costs a child ~15 ms, so only on demand. */
export function loadV8(): Promise<V8> {
  v8Loading ??= import("node:v8").then((m) => (v8 = m as V8));
  return v8Loading;
}

const encoder = new TextEncoder();

const decoder = new TextDecoder();

// Members that are numbers or strings, most of them, are looked at in the
// loops, without a call of their own. Measured (bench/wire_bench.ts, "the
// JSON check"), against a call per member: a pool batch of 256 tasks 10.8
// -> 7.1 µs, its results 11.7 -> 10.6 µs, 1,000 numbers 4.5 -> 1.9 µs.
function isJsonExact(value: unknown, depth: number): boolean {
  switch (typeof value) {
    case "string":
    case "boolean":
      return true;
    case "number":
      return Number.isFinite(value) && !Object.is(value, -0);
    case "object": {
      if (value === null) return true;
      if (depth > MAX_JSON_DEPTH) return false;
      if (Array.isArray(value)) {
        for (let i = 0; i < value.length; i++) {
          // A hole reads as undefined, which JSON would turn into null.
          const v = value[i];
          if (typeof v === "number") {
            if (!Number.isFinite(v) || Object.is(v, -0)) return false;
          } else if (typeof v !== "string" && !isJsonExact(v, depth + 1)) return false;
        }
        return true;
      }
      const proto = Object.getPrototypeOf(value);
      if (proto !== Object.prototype && proto !== null) return false;
      if ("toJSON" in value) return false;
      for (const key in value) {
        const v = (value as Record<string, unknown>)[key];
        if (typeof v === "number") {
          if (!Number.isFinite(v) || Object.is(v, -0)) return false;
        } else if (typeof v !== "string" && !isJsonExact(v, depth + 1)) return false;
      }
      return true;
    }
    default:
      return false;
  }
}

/**
 * Whether a value certainly encodes (on the JSON path): a cheap check that
 * lets a sender accept a value now and encode it later in a batch.
 */
export function surelyCloneable(value: unknown): boolean {
  return isJsonExact(value, 0);
}

/**
 * Turns a DataCloneError of the v8 serializer (a plain `Error` there) into the
 * `DOMException` named `DataCloneError` that `structuredClone` throws.
 */
function cloneError(err: unknown): unknown {
  if (
    err instanceof Error &&
    /could not be cloned|Unserializable/.test(err.message)
  ) {
    return new DOMException(err.message, "DataCloneError");
  }
  return err;
}

/**
 * Encodes a value into a payload, `reserve` zero bytes first (room for a
 * frame header, so a frame needs no second copy).
 *
 * @throws {DOMException} `DataCloneError` when the value cannot be cloned.
 */
export async function encode(value: unknown, reserve = 0): Promise<Uint8Array> {
  if (!(value instanceof BytesMessage) && !isJsonExact(value, 0)) await loadV8();
  return encodeSync(value, reserve)!;
}

/**
 * Encodes synchronously when possible: returns `undefined` when the value
 * needs the v8 serializer and it is not loaded yet (call {@link encode}).
 */
export function encodeSync(value: unknown, reserve = 0): Uint8Array | undefined {
  const parts = encodeSyncParts(value, reserve);
  if (!parts || parts.length === 1) return parts?.[0];
  const [prefix, body] = parts;
  const out = new Uint8Array(prefix.length + body.length);
  out.set(prefix);
  out.set(body, prefix.length);
  return out;
}

/** A body from this size up is kept apart from its prefix rather than copied after it. */
const APART = 256 * 1024;

/**
 * Like {@link encodeSync}, but a large payload comes as two parts, a prefix
 * (reserve, tag, header) and a body, to be written one after the other: a
 * message of a gigabyte is not copied once more to join them.
 */
export function encodeSyncParts(
  value: unknown,
  reserve = 0,
): [Uint8Array] | [Uint8Array, Uint8Array] | undefined {
  if (value instanceof BytesMessage) {
    return value.bytes.length >= APART
      ? encodeBytesParts(value, reserve)
      : [encodeBytes(value, reserve)];
  }
  if (isJsonExact(value, 0)) return [encodeJson(value, reserve)];
  if (!v8) return undefined;
  let body: Uint8Array;
  try {
    body = v8.serialize(value);
  } catch (err) {
    throw cloneError(err);
  }
  if (body.length >= APART) {
    const prefix = new Uint8Array(reserve + 1);
    prefix[reserve] = TAG_V8;
    return [prefix, body];
  }
  const out = new Uint8Array(reserve + 1 + body.length);
  out[reserve] = TAG_V8;
  out.set(body, reserve + 1);
  return [out];
}

/**
 * A bytes message as two parts, the prefix (reserve, tag, header) and the
 * bytes themselves, so that they can be written without a copy.
 */
export function encodeBytesParts(m: BytesMessage, reserve: number): [Uint8Array, Uint8Array] {
  const header = encoder.encode(JSON.stringify(m.header));
  const prefix = new Uint8Array(reserve + 5 + header.length);
  prefix[reserve] = TAG_BYTES;
  new DataView(prefix.buffer).setUint32(reserve + 1, header.length);
  prefix.set(header, reserve + 5);
  return [prefix, m.bytes];
}

function encodeBytes(m: BytesMessage, reserve: number): Uint8Array {
  const header = encoder.encode(JSON.stringify(m.header));
  const out = new Uint8Array(reserve + 5 + header.length + m.bytes.length);
  out[reserve] = TAG_BYTES;
  new DataView(out.buffer).setUint32(reserve + 1, header.length);
  out.set(header, reserve + 5);
  out.set(m.bytes, reserve + 5 + header.length);
  return out;
}

function encodeJson(value: unknown, reserve: number): Uint8Array {
  const text = JSON.stringify(value);
  const out = new Uint8Array(reserve + jsonPayloadMax(text));
  return out.subarray(0, reserve + writeJsonPayload(text, out.subarray(reserve)));
}

/**
 * The JSON text of a value that takes the JSON path, or `undefined` for one
 * that does not (it needs the v8 serializer, or is a {@link BytesMessage}).
 * Its payload is written in place with {@link writeJsonPayload}. With
 * `known`, the caller found the value exact JSON already
 * ({@link surelyCloneable}): it is not walked again.
 */
export function jsonText(value: unknown, known = false): string | undefined {
  return value instanceof BytesMessage || !(known || isJsonExact(value, 0))
    ? undefined
    : JSON.stringify(value);
}

/** The most bytes {@link writeJsonPayload} writes for `text`. */
export function jsonPayloadMax(text: string): number {
  // UTF-8 needs at most 3 bytes per UTF-16 unit.
  return 1 + text.length * 3;
}

/**
 * Writes the payload of JSON `text` (what {@link encode} makes of its value)
 * into `dest`, which has {@link jsonPayloadMax} bytes; returns the bytes written.
 */
export function writeJsonPayload(text: string, dest: Uint8Array): number {
  dest[0] = TAG_JSON;
  return 1 + encoder.encodeInto(text, dest.subarray(1)).written;
}

/** Whether decoding this payload needs the v8 serializer loaded first. */
export function needsV8(payload: Uint8Array): boolean {
  return payload[0] === TAG_V8 && v8 === undefined;
}

/**
 * Whether JSON text nests no deeper than `limit` (brackets inside strings
 * not counted). Text shorter than twice the limit cannot: not scanned.
 * Measured here: about a fifth of the cost of decoding and parsing it.
 */
function jsonDepthWithin(bytes: Uint8Array, limit: number): boolean {
  if (bytes.length < 2 * limit) return true;
  let depth = 0, inString = false;
  for (let i = 0; i < bytes.length; i++) {
    const c = bytes[i];
    if (inString) {
      if (c === 0x5c) i++; // a backslash: the next byte is escaped
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > limit) return false;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return true;
}

/**
 * Decodes a payload made by {@link encode}. Call {@link loadV8} first when
 * {@link needsV8} says so.
 *
 * @throws {TypeError} On an unknown tag or malformed body.
 * @throws {RangeError} On JSON nested deeper than `limits().depth`.
 */
export function decode(payload: Uint8Array, owned = false): unknown {
  const tag = payload[0];
  if (tag === TAG_JSON) {
    const body = payload.subarray(1);
    if (!jsonDepthWithin(body, limits().depth)) {
      throw new RangeError(`Cannot decode payload: nested deeper than ${limits().depth} levels`);
    }
    return JSON.parse(decoder.decode(body));
  }
  if (tag === TAG_BYTES) {
    const head = bytesHead(payload);
    if (!head) throw new TypeError("Cannot decode payload: a bytes message cut short");
    // A payload in the reader's buffer is copied out; one of its own is kept.
    const bytes = owned ? payload.subarray(head.at) : payload.slice(head.at);
    return new BytesMessage(head.header, bytes);
  }
  if (tag === TAG_V8) {
    if (!v8) {
      throw new TypeError("Cannot decode payload: node:v8 is not loaded");
    }
    // deserialize may keep a view of its input: give it its own copy (a
    // payload of its own, a large one, is that already).
    return v8.deserialize(owned ? payload.subarray(1) : payload.slice(1));
  }
  throw new TypeError(`Cannot decode payload: unknown tag ${tag}`);
}

/**
 * A bytes message's header, and where its bytes start, read from the first
 * bytes of its payload.
 *
 * @returns `undefined` when they are not a bytes message's, or do not hold
 * its whole header.
 * @throws {SyntaxError} On a header that is not JSON.
 */
export function bytesHead(head: Uint8Array): { header: unknown; at: number } | undefined {
  if (head[0] !== TAG_BYTES || head.length < 5) return undefined;
  const at = 5 + new DataView(head.buffer, head.byteOffset).getUint32(1);
  if (head.length < at) return undefined;
  return { header: JSON.parse(decoder.decode(head.subarray(5, at))), at };
}

/** Decodes a payload, loading the v8 serializer first when it is needed. */
export async function decodeAsync(payload: Uint8Array): Promise<unknown> {
  if (needsV8(payload)) await loadV8();
  return decode(payload);
}
