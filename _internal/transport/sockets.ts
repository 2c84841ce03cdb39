/**
 * Local sockets: a Unix domain socket in a fresh private directory (0700,
 * socket 0600), or TCP on loopback where Unix sockets are not available
 * (Windows) or where asked for. One listener path per hub, so several hubs
 * in one process (`deno test --parallel`) never collide. Every connection
 * proves the authkey (both ways) before anything else is read.
 *
 * @module
 */

import { clientHandshake, serverHandshake } from "./auth.ts";
import { AuthenticationError } from "../base/errors.ts";
import { FrameReader, FrameWriter } from "../wire/framing.ts";
import type { Address } from "./address.ts";
import { makeSocketDir, removeSocketDir, SOCKET_NAME, sweepSocketDirs } from "./socket_dir.ts";
import type { TransportKind } from "../base/state.ts";
import { raceTimer } from "../base/async.ts";

/** How long a peer may take over the authkey challenge. */
export const HANDSHAKE_TIMEOUT_MS = 10_000;

/** A listener and what it takes to remove it. */
export interface BoundListener {
  /** The listener. */
  listener: Deno.Listener;
  /** Where it listens. */
  address: Address;
  /** Closes the listener and removes its socket file and directory. */
  close(): void;
}

/** Opens a listener of the given kind (TCP: on `port`, 0 for any free one). */
export function listen(kind: TransportKind, hostname = "127.0.0.1", port = 0): BoundListener {
  if (kind === "tcp") {
    const listener = Deno.listen({ hostname, port, transport: "tcp" });
    const bound = (listener.addr as Deno.NetAddr).port;
    return {
      listener,
      address: { transport: "tcp", hostname, port: bound },
      close: () => closeQuietly(listener),
    };
  }
  const dir = makeSocketDir();
  const path = `${dir}/${SOCKET_NAME}`;
  let listener: Deno.Listener;
  try {
    listener = Deno.listen({ transport: "unix", path });
    Deno.chmodSync(path, 0o600);
  } catch (err) {
    removeSocketDir(dir); // No permission, say: nothing is left behind.
    throw err;
  }
  sweepSocketDirs(dir);
  return {
    listener,
    address: { transport: "unix", path },
    close() {
      closeQuietly(listener);
      removeSocketDir(dir);
    },
  };
}

function closeQuietly(c: { close(): void }): void {
  try {
    c.close();
  } catch { /* already closed */ }
}

/** Opens a connection to an address. */
export function connectTo(address: Address): Promise<Deno.Conn> {
  return address.transport === "unix"
    ? Deno.connect({ transport: "unix", path: address.path })
    : Deno.connect({
      transport: "tcp",
      hostname: address.hostname,
      port: address.port,
    });
}

/** An authenticated connection, framed both ways. */
export interface AuthedConn {
  /** The underlying connection. */
  conn: Deno.Conn;
  /** Reads frames. */
  reader: FrameReader;
  /** Writes frames. */
  writer: FrameWriter;
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
  side: typeof serverHandshake,
  authkey: Uint8Array,
  deadlineMs: number | undefined,
): Promise<AuthedConn> {
  const reader = new FrameReader(conn);
  const writer = new FrameWriter(conn);
  try {
    await raceTimer(side(reader, writer, authkey), deadlineMs, () => {
      throw new AuthenticationError("Authkey challenge timed out");
    }, { unref: true });
    return { conn, reader, writer };
  } catch (err) {
    closeQuietly(conn);
    throw err instanceof AuthenticationError ? err : new AuthenticationError(
      "Authkey challenge failed: the connection broke",
      { cause: err },
    );
  }
}

/**
 * Connects to an address and proves the authkey (both ways), within
 * `deadlineMs` when given.
 */
export async function connectAuthed(
  address: Address,
  authkey: Uint8Array,
  deadlineMs?: number,
): Promise<AuthedConn> {
  const conn = await connectTo(address);
  return await handshake(conn, clientHandshake, authkey, deadlineMs);
}

/** Authenticates an accepted connection within {@link HANDSHAKE_TIMEOUT_MS}. */
export function acceptAuthed(
  conn: Deno.Conn,
  authkey: Uint8Array,
): Promise<AuthedConn> {
  return handshake(conn, serverHandshake, authkey, HANDSHAKE_TIMEOUT_MS);
}
