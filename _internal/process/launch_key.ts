/**
 * The key a subprocess child gets on its stdin, the only bytes its parent
 * ever writes there: a 4-byte big-endian length, then that many bytes of
 * JSON, `{"k": <key, hex>, "i": <key id>}`. Length-prefixed, so a key of
 * any length arrives whole (the child once read exactly 32 bytes: a longer
 * key was cut, a shorter one made it wait for ever); the id names a
 * sandboxed child's derived key (`""`: the tree's own).
 *
 * @module
 */

import { fromHex, toHex } from "../transport/keys.ts";

/** The longest launch key message accepted. */
const MAX_LAUNCH_KEY = 4096;

/** A child's key and its id. */
export interface LaunchKeyMessage {
  key: Uint8Array;
  kid: string;
}

/** The bytes a parent writes to a child's stdin. */
export function encodeLaunchKey(key: Uint8Array, kid: string): Uint8Array {
  const body = new TextEncoder().encode(JSON.stringify({ k: toHex(key), i: kid }));
  const out = new Uint8Array(4 + body.length);
  new DataView(out.buffer).setUint32(0, body.length);
  out.set(body, 4);
  return out;
}

/**
 * Reads a launch key from a stream (a child's stdin); null when the stream
 * ends first (the parent is gone). What is there is read at once, the whole
 * message in one read as a rule: nothing follows it on the stream.
 *
 * @throws {TypeError} When what arrives is not a launch key.
 */
export async function readLaunchKey(
  read: (p: Uint8Array) => Promise<number | null>,
): Promise<LaunchKeyMessage | null> {
  const buf = new Uint8Array(4 + MAX_LAUNCH_KEY);
  let have = 0;
  let end = buf.length; // Until the length is read.
  while (have < end) {
    const got = await read(buf.subarray(have, end));
    if (got === null) return null;
    have += got;
    if (end === buf.length && have >= 4) {
      const len = new DataView(buf.buffer).getUint32(0);
      if (len > MAX_LAUNCH_KEY) throw new TypeError("Cannot start: malformed launch key");
      end = 4 + len;
    }
  }
  if (have > end) throw new TypeError("Cannot start: malformed launch key");
  const body = buf.subarray(4, end);
  const m = JSON.parse(new TextDecoder().decode(body)) as { k?: unknown; i?: unknown };
  const key = fromHex(m.k);
  if (!key || typeof m.i !== "string") throw new TypeError("Cannot start: malformed launch key");
  return { key, kid: m.i };
}
