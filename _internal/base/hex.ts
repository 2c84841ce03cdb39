/**
 * Hex, as keys and ids travel in JSON: in a module of its own, without the
 * key derivation (`transport/keys.ts` and its SHA-256), so that a child
 * reading its launch key on stdin loads no more than this.
 *
 * @module
 */

/** Lower-case hex. */
export function toHex(b: Uint8Array): string {
  let s = "";
  for (const x of b) s += x.toString(16).padStart(2, "0");
  return s;
}

/** The bytes of a hex string; undefined when it is not one. */
export function fromHex(s: unknown): Uint8Array | undefined {
  if (typeof s !== "string" || s.length % 2 !== 0 || !/^[0-9a-f]*$/.test(s)) return undefined;
  const out = new Uint8Array(s.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(s.slice(2 * i, 2 * i + 2), 16);
  return out;
}
