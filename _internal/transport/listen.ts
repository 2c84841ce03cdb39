/**
 * Local listeners: a Unix domain socket in a fresh private directory (0700,
 * socket 0600), or TCP on loopback where Unix sockets are not available
 * (Windows) or where asked for. One listener path per hub, so several hubs
 * in one process (`deno test --parallel`) never collide. Opening one is
 * synchronous (a `Listener` listens once made); serving it, with the
 * authkey handshake, is `sockets.ts`.
 *
 * @module
 */

import type { Address } from "./address.ts";
import {
  makeSocketDir,
  removeSocketDir,
  SOCKET_DIR_PREFIX,
  SOCKET_NAME,
  sweepSocketDirs,
} from "./socket_dir.ts";
import type { Need } from "../base/permits.ts";
import type { TransportKind } from "../base/state.ts";

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

/** Closes a listener or connection that may be closed already. */
export function closeQuietly(c: { close(): void }): void {
  try {
    c.close();
  } catch { /* already closed */ }
}
