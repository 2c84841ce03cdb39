/**
 * Keys: what a key must be (at least {@link MIN_AUTHKEY_BYTES}), keys derived
 * from another for one purpose (a sandboxed child's key, a grant, a pool's
 * seal on a module), and constant-time comparison. A derived key proves
 * nothing about the key it came from: HMAC-SHA256 cannot be inverted.
 *
 * @module
 */

import { hmacSha256 } from "./sha256.ts";
import { toHex } from "../base/hex.ts";

/** The shortest authkey accepted: a shorter one could be guessed offline from one handshake. */
export const MIN_AUTHKEY_BYTES = 16;

/**
 * Checks a key a user gave.
 *
 * @throws {RangeError} When it is shorter than {@link MIN_AUTHKEY_BYTES} bytes.
 */
export function checkAuthkey(key: Uint8Array, what: string): Uint8Array {
  if (key.length < MIN_AUTHKEY_BYTES) {
    throw new RangeError(
      `Cannot ${what}: 'authkey' must be at least ${MIN_AUTHKEY_BYTES} bytes, received ${key.length}`,
    );
  }
  return key;
}

const encoder = new TextEncoder();

/**
 * A key for one purpose: HMAC-SHA256(`key`, `label` NUL `parts`…). Labels
 * keep the purposes apart: a grant can never serve as a child's key.
 */
export function deriveKey(key: Uint8Array, label: string, ...parts: string[]): Uint8Array {
  return hmacSha256(key, encoder.encode([label, ...parts].join("\0")));
}

/** The prefix of the id of a key derived for one sandboxed child. */
export const CHILD_KID_PREFIX = "c:";

/** A fresh key id for a sandbox. */
export function newSandboxId(): string {
  return `${CHILD_KID_PREFIX}${toHex(crypto.getRandomValues(new Uint8Array(16)))}`;
}

/**
 * The key a listener with key `base` accepts under id `kid`: its own for
 * `""`, a sandboxed child's derived key for `"c:…"`, else none.
 */
export function keyForId(base: Uint8Array, kid: string): Uint8Array | undefined {
  if (kid === "") return base;
  return kid.startsWith(CHILD_KID_PREFIX) ? deriveKey(base, "mp-child", kid) : undefined;
}

/** Compares in time that does not depend on where the bytes differ. */
export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i] ^ b[i];
  return diff === 0;
}
