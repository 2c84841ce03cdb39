/**
 * The authkey handshake, both ways, before any other byte is read. Three
 * frames, and the server proves the key first:
 *
 * 1. client → server: HELLO, a random 32-byte nonce `nC`, whether the
 *    client binds the handshake to the address it dialled, and the id of
 *    the key it holds (`""`: the listener's own key; `"c:…"`: a key derived
 *    from it for one sandboxed child, see `keys.ts`);
 * 2. server → client: CHALLENGE, its nonce `nS` and
 *    `HMAC(key, "server" ‖ T)`;
 * 3. client → server: `HMAC(key, "client" ‖ T)`, sent only once the
 *    server's proof checked out.
 *
 * `T` holds both nonces, the key id, and the address the client dialled
 * when it binds (the server puts its own address there): a peer that
 * relays another server's challenge to a client, to borrow the client's
 * answer, fails, because the client's MAC names the relay's address and
 * the server's names its own; and no answer is ever given to a server that
 * has not proven the key. Each side's MAC names its role, so one side's
 * proof never serves as the other's. Frames during the handshake are
 * bounded to a few hundred bytes. Nonces and keys are never logged or put
 * in an error message.
 *
 * @module
 */

import { AuthenticationError } from "../base/errors.ts";
import { hmacSha256 } from "./sha256.ts";
import { equalBytes } from "./keys.ts";
import { frameOf, type FrameReader, type FrameWriter } from "../wire/framing.ts";

const encoder = new TextEncoder();
const HELLO = encoder.encode("#MP-HELLO-2#");
const CHALLENGE = encoder.encode("#MP-CHALLENGE-2#");
const FAILURE = encoder.encode("#FAILURE#");
const SERVER = encoder.encode("mp-auth-server\0");
const CLIENT = encoder.encode("mp-auth-client\0");
const NONCE_BYTES = 32;
const MAC_BYTES = 32;
const MAX_AUTH_FRAME = 256;
/** Longest key id, in bytes (it fits a handshake frame). */
export const MAX_KEY_ID = MAX_AUTH_FRAME - 64;

/** How a client proves a key. */
export interface ClientKey {
  /** The key. */
  key: Uint8Array;
  /** The key's id, as the server knows it (`""`: the server's own key). */
  kid?: string;
  /**
   * The address string the client dialled, when it binds the handshake to
   * it (an address it did not get from its user: see the module doc).
   */
  bind?: string;
}

/** How a server finds the key a client claims, and where it listens. */
export interface ServerKeys {
  /** The key with id `kid`, or undefined when there is none. */
  keyFor(kid: string): Uint8Array | undefined;
  /** The server's own address string, what a binding client dialled. */
  address: string;
}

async function readAuthFrame(reader: FrameReader): Promise<Uint8Array> {
  // No message in pieces either: nothing large is read before the key is proven.
  const frame = await reader.next(MAX_AUTH_FRAME, MAX_AUTH_FRAME);
  if (frame === null) {
    throw new AuthenticationError("Connection closed during the authkey challenge");
  }
  return frame.slice();
}

function startsWith(data: Uint8Array, prefix: Uint8Array): boolean {
  return data.length >= prefix.length && equalBytes(data.subarray(0, prefix.length), prefix);
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) (out.set(p, at), at += p.length);
  return out;
}

/** What both sides MAC: the nonces, the key id, and the bound address (or nothing). */
function transcript(nC: Uint8Array, nS: Uint8Array, kid: Uint8Array, bind: string): Uint8Array {
  return concat(nC, nS, kid, new Uint8Array([0]), encoder.encode(bind));
}

/** The client's first frame. */
function helloFrame(nC: Uint8Array, bound: boolean, kid: Uint8Array): Uint8Array {
  return frameOf(concat(HELLO, nC, new Uint8Array([bound ? 1 : 0]), kid));
}

/** Parses a HELLO: the client's nonce, whether it binds, and its key id. */
function parseHello(m: Uint8Array): { nC: Uint8Array; bound: boolean; kid: Uint8Array } {
  const at = HELLO.length;
  if (!startsWith(m, HELLO) || m.length < at + NONCE_BYTES + 1 || m[at + NONCE_BYTES] > 1) {
    throw new AuthenticationError("Protocol error: expected an authkey handshake");
  }
  return {
    nC: m.subarray(at, at + NONCE_BYTES),
    bound: m[at + NONCE_BYTES] === 1,
    kid: m.subarray(at + NONCE_BYTES + 1),
  };
}

/**
 * The accepting side: reads the client's hello, proves the key it claims,
 * and checks the client's proof. Resolves the key id the client proved.
 * Rejects with {@link AuthenticationError} on any failure; the caller
 * closes the connection.
 */
export async function serverHandshake(
  reader: FrameReader,
  writer: FrameWriter,
  keys: ServerKeys,
): Promise<string> {
  const { nC, bound, kid } = parseHello(await readAuthFrame(reader));
  const kidText = new TextDecoder("utf-8", { fatal: true }).decode(kid);
  const key = keys.keyFor(kidText);
  if (!key) {
    await writer.write(frameOf(FAILURE)).catch(() => {});
    throw new AuthenticationError("The peer claims a key this side does not know");
  }
  const nS = crypto.getRandomValues(new Uint8Array(NONCE_BYTES));
  const t = transcript(nC, nS, kid, bound ? keys.address : "");
  writer.write(frameOf(concat(CHALLENGE, nS, hmacSha256(key, concat(SERVER, t))))).catch(
    () => {},
  );
  const answer = await readAuthFrame(reader);
  if (!equalBytes(answer, hmacSha256(key, concat(CLIENT, t)))) {
    await writer.write(frameOf(FAILURE)).catch(() => {});
    throw new AuthenticationError("Digest received was wrong: the peer holds another authkey");
  }
  return kidText;
}

/**
 * The connecting side: checks the server's proof before it gives its own,
 * which goes out with whatever is written next (one round trip in all).
 */
export async function clientHandshake(
  reader: FrameReader,
  writer: FrameWriter,
  client: ClientKey,
): Promise<void> {
  const kid = encoder.encode(client.kid ?? "");
  if (kid.length > MAX_KEY_ID) {
    throw new AuthenticationError("Cannot authenticate: key id too long");
  }
  const nC = crypto.getRandomValues(new Uint8Array(NONCE_BYTES));
  writer.write(helloFrame(nC, client.bind !== undefined, kid)).catch(() => {});
  const m = await readAuthFrame(reader);
  if (!startsWith(m, CHALLENGE) || m.length !== CHALLENGE.length + NONCE_BYTES + MAC_BYTES) {
    throw new AuthenticationError(
      equalBytes(m, FAILURE)
        ? "Authkey challenge refused: the peer does not know this key"
        : "Protocol error: expected an authkey challenge",
    );
  }
  const nS = m.subarray(CHALLENGE.length, CHALLENGE.length + NONCE_BYTES);
  const t = transcript(nC, nS, kid, client.bind ?? "");
  if (
    !equalBytes(
      m.subarray(CHALLENGE.length + NONCE_BYTES),
      hmacSha256(client.key, concat(SERVER, t)),
    )
  ) {
    throw new AuthenticationError("Digest received was wrong: the peer holds another authkey");
  }
  writer.write(frameOf(hmacSha256(client.key, concat(CLIENT, t)))).catch(() => {});
}
