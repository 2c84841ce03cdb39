/**
 * Connections on local sockets (`listen.ts` opens the listeners): every
 * connection proves the authkey (both ways) before anything else is read.
 *
 * @module
 */

import { clientHandshake, type ClientKey, serverHandshake } from "./auth.ts";
import { AuthenticationError } from "../base/errors.ts";
import { FrameReader, FrameWriter } from "../wire/framing.ts";
import { type Address, addressToString } from "./address.ts";
import { type BoundListener, closeQuietly } from "./listen.ts";
import { delay, raceTimer } from "../base/async.ts";
import { limits } from "../wire/limits.ts";

/** How long a peer may take over the authkey challenge. */
export const HANDSHAKE_TIMEOUT_MS = 10_000;

/**
 * Readies a connection, opened or accepted: on TCP, Nagle's algorithm would
 * hold back each small frame until the previous one is acknowledged (the
 * handshake's frames, then each call and its reply), and delayed ACKs make
 * that up to 40 ms a time; no-delay sends them at once.
 */
function ready<C extends Deno.Conn>(conn: C): C {
  if ("setNoDelay" in conn) {
    try {
      (conn as unknown as Deno.TcpConn).setNoDelay(true);
    } catch { /* closed already: the first read says so */ }
  }
  return conn;
}

/** Opens a connection to an address. */
export async function connectTo(address: Address): Promise<Deno.Conn> {
  return ready(
    address.transport === "unix"
      ? await Deno.connect({ transport: "unix", path: address.path })
      : await Deno.connect({ transport: "tcp", hostname: address.hostname, port: address.port }),
  );
}

/** An authenticated connection, framed both ways. */
export interface AuthedConn {
  /** The underlying connection. */
  conn: Deno.Conn;
  /** Reads frames. */
  reader: FrameReader;
  /** Writes frames. */
  writer: FrameWriter;
  /**
   * The id of the key proven (`""`: the listener's own key; otherwise a key
   * derived from it for one sandboxed child, whose connection reaches only
   * what it was granted).
   */
  kid: string;
}

/**
 * Runs a handshake, under a deadline when one is given; closes the
 * connection on failure. The deadline is the accepting side's defence
 * against a peer that stalls. A starting child connects without one: the
 * first `setTimeout` of a Deno process costs it about 15 ms, and its parent
 * already bounds the whole start.
 */
async function handshake(
  conn: Deno.Conn,
  side: (reader: FrameReader, writer: FrameWriter) => Promise<string>,
  deadlineMs: number | undefined,
): Promise<AuthedConn> {
  const reader = new FrameReader(conn);
  const writer = new FrameWriter(conn);
  try {
    const kid = await raceTimer(side(reader, writer), deadlineMs, () => {
      throw new AuthenticationError("Authkey challenge timed out");
    }, { unref: true });
    return { conn, reader, writer, kid };
  } catch (err) {
    closeQuietly(conn);
    throw err instanceof AuthenticationError ? err : new AuthenticationError(
      "Authkey challenge failed: the connection broke",
      { cause: err },
    );
  }
}

/**
 * Connects to an address and proves a key (both ways), within `deadlineMs`
 * when given. `key` is the key, or how to prove one: a key id, and whether
 * to bind the handshake to `address` (do so for an address that came in
 * data: see `auth.ts`).
 */
export async function connectAuthed(
  address: Address,
  key: Uint8Array | { key: Uint8Array; kid?: string; bind?: boolean },
  deadlineMs?: number,
): Promise<AuthedConn> {
  return await proveKey(await connectTo(address), address, key, deadlineMs);
}

/**
 * {@link connectAuthed} on a connection already opened to `address` (a
 * starting child opens it while it reads its key).
 */
export async function proveKey(
  conn: Deno.Conn,
  address: Address,
  key: Uint8Array | { key: Uint8Array; kid?: string; bind?: boolean },
  deadlineMs?: number,
): Promise<AuthedConn> {
  const k = key instanceof Uint8Array ? { key } : key;
  const client: ClientKey = {
    key: k.key,
    kid: k.kid ?? "",
    ...(k.bind ? { bind: addressToString(address) } : {}),
  };
  return await handshake(
    conn,
    (r, w) => clientHandshake(r, w, client).then(() => client.kid!),
    deadlineMs,
  );
}

/** Authenticates an accepted connection within {@link HANDSHAKE_TIMEOUT_MS}. */
export function acceptAuthed(
  conn: Deno.Conn,
  keys: { keyFor(kid: string): Uint8Array | undefined; address: string },
): Promise<AuthedConn> {
  return handshake(conn, (r, w) => serverHandshake(r, w, keys), HANDSHAKE_TIMEOUT_MS);
}

/** What {@link serveListener} does with each connection. */
export interface ServeHandlers {
  /**
   * The key with id `kid` that a peer must prove (read at each connection:
   * it may change), or undefined when there is none.
   */
  keyFor(kid: string): Uint8Array | undefined;
  /** A connection that proved it. */
  authed(authed: AuthedConn): void;
  /** A connection that failed the challenge, stalled or was shed. */
  failed?(err: unknown): void;
}

/**
 * Accepts connections until the listener is closed, and authenticates them
 * side by side (a stalled peer holds up no one). Two defences:
 *
 * - at most `limits().pendingAuth` connections wait for the challenge at a
 *   time; a new one sheds the oldest (an idle connection costs a file
 *   descriptor and a few KiB until its deadline);
 * - an accept that fails ("Too many open files") is retried after a delay,
 *   doubling from `limits().acceptBackoffMs[0]` to `[1]`: the listener is
 *   not taken for closed.
 */
export async function serveListener(bound: BoundListener, handlers: ServeHandlers): Promise<void> {
  // What a client that binds its handshake dialled: this listener's address.
  const address = addressToString(bound.address);
  const waiting = new Set<Deno.Conn>();
  let backoff = 0;
  while (!bound.closed) {
    let conn: Deno.Conn;
    try {
      conn = ready(await bound.listener.accept());
    } catch (err) {
      if (bound.closed || err instanceof Deno.errors.BadResource) break;
      const [first, last] = limits().acceptBackoffMs;
      backoff = backoff === 0 ? first : Math.min(backoff * 2, last);
      // Unref'd: a listener that is itself unref'd must not be kept alive by its retries.
      await delay(backoff, { unref: true });
      continue;
    }
    backoff = 0;
    waiting.add(conn);
    if (waiting.size > limits().pendingAuth) {
      const oldest = waiting.values().next().value!;
      waiting.delete(oldest);
      closeQuietly(oldest);
    }
    acceptAuthed(conn, { keyFor: (kid) => handlers.keyFor(kid), address }).then(
      (authed) => {
        if (waiting.delete(conn)) handlers.authed(authed);
        else closeQuietly(authed.conn);
      },
      (err) => {
        waiting.delete(conn);
        handlers.failed?.(err);
      },
    );
  }
  for (const conn of waiting) closeQuietly(conn);
}
