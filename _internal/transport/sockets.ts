/**
 * Local sockets: a Unix domain socket in a fresh private directory (0700,
 * socket 0600), or TCP on loopback where Unix sockets are not available
 * (Windows) or where asked for. One listener path per hub, so several hubs
 * in one process (`deno test --parallel`) never collide. Every connection
 * proves the authkey (both ways) before anything else is read.
 *
 * @module
 */

import { clientHandshake, type ClientKey, serverHandshake } from "./auth.ts";
import { AuthenticationError } from "../base/errors.ts";
import { FrameReader, FrameWriter } from "../wire/framing.ts";
import { type Address, addressToString } from "./address.ts";
import {
  makeSocketDir,
  removeSocketDir,
  SOCKET_DIR_PREFIX,
  SOCKET_NAME,
  sweepSocketDirs,
} from "./socket_dir.ts";
import type { Need } from "../base/permits.ts";
import type { TransportKind } from "../base/state.ts";
import { delay, raceTimer } from "../base/async.ts";
import { limits } from "../wire/limits.ts";

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
  /** Whether {@link BoundListener.close} was called. */
  readonly closed: boolean;
}

/** A listener as {@link bound} makes it: `close` also marks it closed. */
export function bound(listener: Deno.Listener, address: Address, close: () => void): BoundListener {
  let closed = false;
  return {
    listener,
    address,
    close() {
      closed = true;
      close();
    },
    get closed() {
      return closed;
    },
  };
}

/**
 * The temp dir a socket directory goes in, as Deno's `makeTempDir` picks it
 * (`TMPDIR`, else `/tmp`), read from the environment only when env access
 * is already granted: never asked for.
 */
function tempDir(): string {
  try {
    if (Deno.permissions.querySync({ name: "env", variable: "TMPDIR" }).state === "granted") {
      return (Deno.env.get("TMPDIR") || "/tmp").replace(/\/+$/, "") || "/";
    }
  } catch { /* no way to ask: the default */ }
  return "/tmp";
}

/** What a listener of this kind needs from Deno, for one combined error (see `permits.ts`). */
export function listenNeeds(kind: TransportKind, hostname = "127.0.0.1"): Need[] {
  const why = "children and shared objects reach this process through it";
  if (kind === "tcp") {
    return [{
      flag: "--allow-net",
      descriptor: { name: "net", host: hostname },
      why: `to listen on a ${hostname} port (${why})`,
    }];
  }
  const tmp = tempDir();
  const socket = `${tmp}/${SOCKET_DIR_PREFIX}${Deno.pid}-…/${SOCKET_NAME}`;
  return [
    {
      flag: "--allow-read",
      descriptor: { name: "read", path: socket },
      why: `to listen on its private socket in ${tmp} (${why})`,
    },
    {
      flag: "--allow-write",
      descriptor: { name: "write", path: tmp },
      why: `to make the socket's private directory in ${tmp}`,
    },
    {
      flag: "--allow-net",
      descriptor: { name: "net", host: `unix:${socket}` },
      why: "to listen on that socket (Deno counts Unix sockets as net)",
    },
  ];
}

/**
 * Opens a listener of the given kind (TCP: on `port`, 0 for any free one).
 * A Unix socket goes in a fresh private directory, or in `dir` when given
 * (one its owner made for it: closing then removes the socket only, and
 * the directory is the owner's to remove).
 */
export function listen(
  kind: TransportKind,
  hostname = "127.0.0.1",
  port = 0,
  dir?: string,
): BoundListener {
  if (kind === "tcp") {
    const listener = Deno.listen({ hostname, port, transport: "tcp" });
    const at = (listener.addr as Deno.NetAddr).port;
    return bound(listener, { transport: "tcp", hostname, port: at }, () => closeQuietly(listener));
  }
  if (dir) return listenIn(dir);
  dir = makeSocketDir();
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
  return bound(listener, { transport: "unix", path }, () => {
    closeQuietly(listener);
    removeSocketDir(dir);
  });
}

/** A Unix socket in a directory another process made for it. */
function listenIn(dir: string): BoundListener {
  const path = `${dir}/${SOCKET_NAME}`;
  const listener = Deno.listen({ transport: "unix", path });
  Deno.chmodSync(path, 0o600);
  return bound(listener, { transport: "unix", path }, () => {
    closeQuietly(listener);
    try {
      Deno.removeSync(path);
    } catch { /* already gone */ }
  });
}

function closeQuietly(c: { close(): void }): void {
  try {
    c.close();
  } catch { /* already closed */ }
}

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
