/**
 * What a subprocess child gets on its stdin, the only bytes its parent
 * ever writes there: a 4-byte big-endian length, then that many bytes of
 * JSON, `{"k": <key, hex>, "i": <key id>}`. Length-prefixed, so a key of
 * any length arrives whole (the child once read exactly 32 bytes: a longer
 * key was cut, a shorter one made it wait for ever); the id names a
 * sandboxed child's derived key (`""`: the tree's own).
 *
 * A child started cold gets its task there too, which no other process can
 * write: the JSON then also holds `"t"`, the length of the encoded task
 * that follows it, and `"n"`, the nonce of its start report
 * (`start_report.ts`).
 *
 * @module
 */

import { fromHex, toHex } from "../base/hex.ts";
import { checkMessageSize, limits } from "../wire/limits.ts";

/** The longest launch key message accepted. */
const MAX_LAUNCH_KEY = 4096;

/** A child's key and its id. */
export interface LaunchKeyMessage {
  key: Uint8Array;
  kid: string;
}

/** A task given on stdin: its encoded spec, and the nonce its child reports with. */
export interface LaunchTask {
  nonce: string;
  payload: Uint8Array;
}

/** What a child reads on its stdin: its key, and for a cold start its task. */
export interface Launch extends LaunchKeyMessage {
  task?: LaunchTask;
}

/**
 * The bytes a parent writes to a child's stdin: the key, then the task if
 * there is one.
 *
 * @throws {RangeError} When the task exceeds the message limit.
 */
export function encodeLaunchKey(key: Uint8Array, kid: string, task?: LaunchTask): Uint8Array {
  if (task) checkMessageSize(task.payload.length);
  const fields = task
    ? { k: toHex(key), i: kid, n: task.nonce, t: task.payload.length }
    : { k: toHex(key), i: kid };
  const body = new TextEncoder().encode(JSON.stringify(fields));
  const out = new Uint8Array(4 + body.length + (task?.payload.length ?? 0));
  new DataView(out.buffer).setUint32(0, body.length);
  out.set(body, 4);
  if (task) out.set(task.payload, 4 + body.length);
  return out;
}

/**
 * Reads a launch key, and the task that may follow it, from a stream (a
 * child's stdin); null when the stream ends first (the parent is gone).
 * What is there is read at once, the key in one read as a rule: nothing
 * follows the message on the stream.
 *
 * @throws {TypeError} When what arrives is not a launch key.
 */
export async function readLaunchKey(
  read: (p: Uint8Array) => Promise<number | null>,
): Promise<Launch | null> {
  const malformed = () => new TypeError("Cannot start: malformed launch key");
  const buf = new Uint8Array(4 + MAX_LAUNCH_KEY);
  let have = 0;
  let end = buf.length; // Until the length is read.
  while (have < end) {
    const got = await read(buf.subarray(have, end));
    if (got === null) return null;
    have += got;
    if (end === buf.length && have >= 4) {
      const len = new DataView(buf.buffer).getUint32(0);
      if (len > MAX_LAUNCH_KEY) throw malformed();
      end = 4 + len;
    }
  }
  const m = JSON.parse(new TextDecoder().decode(buf.subarray(4, end))) as {
    k?: unknown;
    i?: unknown;
    n?: unknown;
    t?: unknown;
  };
  const key = fromHex(m.k);
  if (!key || typeof m.i !== "string") throw malformed();
  if (m.t === undefined) {
    if (have > end) throw malformed();
    return { key, kid: m.i };
  }
  if (
    typeof m.n !== "string" || !Number.isSafeInteger(m.t) || (m.t as number) < 0 ||
    (m.t as number) > limits().message
  ) {
    throw malformed();
  }
  const payload = new Uint8Array(m.t as number);
  const early = buf.subarray(end, have);
  if (early.length > payload.length) throw malformed();
  payload.set(early);
  for (let at = early.length; at < payload.length;) {
    const got = await read(payload.subarray(at));
    if (got === null) return null;
    at += got;
  }
  return { key, kid: m.i, task: { nonce: m.n, payload } };
}
