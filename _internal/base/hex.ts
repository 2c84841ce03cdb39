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

/**
 * The bytes of a lower-case hex string; undefined when it is not one. By
 * character codes: a starting child reads its key with this, and a fresh
 * process's first regular expression and first `parseInt` cost it 0.05 and
 * 0.2 ms.
 */
export function fromHex(s: unknown): Uint8Array | undefined {
  if (typeof s !== "string" || s.length % 2 !== 0) return undefined;
  const out = new Uint8Array(s.length / 2);
  for (let i = 0; i < out.length; i++) {
    const hi = nibble(s.charCodeAt(2 * i));
    const lo = nibble(s.charCodeAt(2 * i + 1));
    if (hi < 0 || lo < 0) return undefined;
    out[i] = (hi << 4) | lo;
  }
  return out;
}

/** The value of a lower-case hex digit's code; -1 for any other. */
function nibble(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x61 + 10;
  return -1;
}
