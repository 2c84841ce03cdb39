/**
 * The authkey challenge, in both directions, before any other byte is read:
 * each side sends a random 32-byte nonce and expects HMAC-SHA256(authkey,
 * nonce) back, as `multiprocessing.connection` does. Frames during the
 * handshake are bounded to a few hundred bytes. Nonces and keys are never
 * logged or put in an error message.
 *
 * @module
 */

import { AuthenticationError } from "../base/errors.ts";
import { hmacSha256 } from "./sha256.ts";
import { frameOf, type FrameReader, type FrameWriter } from "../wire/framing.ts";

const CHALLENGE = new TextEncoder().encode("#CHALLENGE#");
const WELCOME = new TextEncoder().encode("#WELCOME#");
const FAILURE = new TextEncoder().encode("#FAILURE#");
const NONCE_BYTES = 32;
const MAX_AUTH_FRAME = 256;

function digest(authkey: Uint8Array, message: Uint8Array): Uint8Array {
  return hmacSha256(authkey, message);
}

function startsWith(data: Uint8Array, prefix: Uint8Array): boolean {
  if (data.length < prefix.length) return false;
  for (let i = 0; i < prefix.length; i++) {
    if (data[i] !== prefix[i]) return false;
  }
  return true;
}

/** Compares in time that does not depend on where the bytes differ. */
function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i] ^ b[i];
  return diff === 0;
}

async function readAuthFrame(reader: FrameReader): Promise<Uint8Array> {
  // No message in pieces either: nothing large is read before the key is proven.
  const frame = await reader.next(MAX_AUTH_FRAME, MAX_AUTH_FRAME);
  if (frame === null) {
    throw new AuthenticationError(
      "Connection closed during the authkey challenge",
    );
  }
  return frame.slice();
}

/** Sends a challenge and checks the peer's answer. */
function challengeFrame(nonce: Uint8Array): Uint8Array {
  const message = new Uint8Array(CHALLENGE.length + NONCE_BYTES);
  message.set(CHALLENGE);
  message.set(nonce, CHALLENGE.length);
  return frameOf(message);
}

/** Checks the peer's digest of `nonce`; tells it the verdict. */
async function verify(
  reader: FrameReader,
  writer: FrameWriter,
  authkey: Uint8Array,
  nonce: Uint8Array,
): Promise<void> {
  const answer = await readAuthFrame(reader);
  if (!equalBytes(answer, digest(authkey, nonce))) {
    await writer.write(frameOf(FAILURE)).catch(() => {});
    throw new AuthenticationError("Digest received was wrong: the peer holds another authkey");
  }
  // Not awaited: the verdict goes out with whatever is written next.
  writer.write(frameOf(WELCOME)).catch(() => {});
}

/** Reads the peer's challenge and writes the digest (not awaited). */
async function answer(
  reader: FrameReader,
  writer: FrameWriter,
  authkey: Uint8Array,
): Promise<void> {
  const message = await readAuthFrame(reader);
  if (!startsWith(message, CHALLENGE) || message.length !== CHALLENGE.length + NONCE_BYTES) {
    throw new AuthenticationError("Protocol error: expected an authkey challenge");
  }
  writer.write(frameOf(digest(authkey, message.subarray(CHALLENGE.length)))).catch(() => {});
}

async function welcomed(reader: FrameReader): Promise<void> {
  if (!equalBytes(await readAuthFrame(reader), WELCOME)) {
    throw new AuthenticationError("Digest sent was rejected: the peer holds another authkey");
  }
}

/**
 * The accepting side: challenges, checks the answer, then answers the
 * client's challenge. Rejects with {@link AuthenticationError} on any
 * failure; the caller closes the connection.
 */
export async function serverHandshake(
  reader: FrameReader,
  writer: FrameWriter,
  authkey: Uint8Array,
): Promise<void> {
  const nonce = crypto.getRandomValues(new Uint8Array(NONCE_BYTES));
  writer.write(challengeFrame(nonce)).catch(() => {});
  await verify(reader, writer, authkey, nonce);
  await answer(reader, writer, authkey);
  await welcomed(reader);
}

/**
 * The connecting side. Its own challenge goes out with its answer, so both
 * directions take one round trip and a half, not three.
 */
export async function clientHandshake(
  reader: FrameReader,
  writer: FrameWriter,
  authkey: Uint8Array,
): Promise<void> {
  await answer(reader, writer, authkey);
  const nonce = crypto.getRandomValues(new Uint8Array(NONCE_BYTES));
  writer.write(challengeFrame(nonce)).catch(() => {});
  await welcomed(reader);
  await verify(reader, writer, authkey, nonce);
}
