/**
 * `Listener` and `Client`: authenticated connections between processes that
 * share no ancestry, as Python's `multiprocessing.connection`.
 *
 * @module
 */

import { ProcessError } from "../_internal/base/errors.ts";
import { EOF, MessageInbox } from "../_internal/primitives/inbox.ts";
import { socketEnd } from "../_internal/primitives/pipe_endpoints.ts";
import { state } from "../_internal/base/state.ts";
import { once } from "../_internal/base/async.ts";
import { bound, type BoundListener, listen } from "../_internal/transport/listen.ts";
import { fromAddress, toAddress, toAuthkey } from "../_internal/transport/address.ts";
import { checkAuthkey } from "../_internal/transport/keys.ts";
export { AuthenticationError } from "../_internal/base/errors.ts";
import { type Connection, connectionOf } from "./connection.ts";

/** What authenticates and frames a connection: loaded by the first to need it. */
const connecting = once(() =>
  Promise.all([
    import("../_internal/transport/sockets.ts"),
    import("../_internal/transport/channel.ts"),
  ])
);

function bindAddress(where: ListenerAddress): BoundListener {
  const a = toAddress(where, "listen");
  if (a.transport === "unix") return bindPath(a.path);
  const listener = Deno.listen({ transport: "tcp", hostname: a.hostname, port: a.port });
  const port = (listener.addr as Deno.NetAddr).port;
  return bound(listener, { transport: "tcp", hostname: a.hostname, port }, () => listener.close());
}

/**
 * A Unix socket at a path the user chose: readable and writable by its
 * owner only (not what the umask leaves), and removed on close (else the
 * next bind to the path fails), if it is still the socket this made.
 */
function bindPath(path: string): BoundListener {
  const listener = Deno.listen({ transport: "unix", path });
  try {
    Deno.chmodSync(path, 0o600);
  } catch (err) {
    listener.close();
    throw err;
  }
  const made = Deno.lstatSync(path).ino;
  return bound(listener, { transport: "unix", path }, () => {
    listener.close();
    try {
      const now = Deno.lstatSync(path);
      if (now.isSocket && now.ino === made) Deno.removeSync(path);
    } catch { /* gone already */ }
  });
}

/** Where a {@link Listener} listens: a Unix socket path, or a TCP host and port. */
export type ListenerAddress = { path: string } | { hostname?: string; port: number };

function keyOf(authkey: Uint8Array | string | undefined, what: string): Uint8Array {
  return authkey === undefined ? state().authkey : checkAuthkey(toAuthkey(authkey), what);
}

/** Options of {@link Listener}. */
export interface ListenerOptions {
  /**
   * Where to listen.
   * @default {a fresh private Unix socket (TCP on loopback where there are none)}
   */
  address?: ListenerAddress;
  /**
   * The shared secret clients must prove they hold: at least 16 bytes (a
   * shorter one could be guessed offline from one observed handshake).
   * @default {this process tree's authkey}
   */
  authkey?: Uint8Array | string;
  /**
   * Called with the error of each connection that failed the handshake (a
   * wrong key, garbage, a stall): {@link Listener.accept} resolves only
   * connections that passed it, and nothing of a failed one is kept.
   * @default {failures are dropped}
   */
  onRejected?: (err: Error) => void;
}

/**
 * Accepts authenticated connections, as Python's
 * `multiprocessing.connection.Listener`. A client that holds the wrong key,
 * sends garbage or stalls fails its own connection only, and is never
 * what `accept()` returns. A socket at a path of yours is made 0600 and
 * removed on close.
 *
 * @example A server and a client with a shared key
 * ```ts
 * import { Client, Listener } from "@mp/multiprocessing/connection";
 * import { assertEquals } from "@std/assert";
 *
 * await using listener = new Listener({ authkey: "a shared secret, 16+ bytes" });
 * const accepting = listener.accept();
 * await using client = await Client(listener.address, { authkey: "a shared secret, 16+ bytes" });
 * await using server = await accepting;
 * await client.send("ping");
 * assertEquals(await server.recv(), "ping");
 * ```
 */
export class Listener {
  #bound: BoundListener;
  #authkey: Uint8Array;
  #results: MessageInbox = new MessageInbox();
  #closed = false;
  #onRejected: ((err: Error) => void) | undefined;

  /**
   * Starts listening.
   *
   * @param options Address and authkey.
   * @throws {Deno.errors.AddrInUse} When the address is taken.
   * @throws {RangeError} When the authkey is shorter than 16 bytes.
   */
  constructor(options: ListenerOptions = {}) {
    this.#authkey = keyOf(options.authkey, "listen");
    this.#onRejected = options.onRejected;
    this.#bound = options.address ? bindAddress(options.address) : listen(state().transport);
    this.#acceptLoop();
  }

  /** Where clients connect. */
  get address(): ListenerAddress {
    return fromAddress(this.#bound.address);
  }

  async #acceptLoop(): Promise<void> {
    // Handshakes run side by side (a stalled client holds up no one), a
    // bounded number at a time; a failed accept is retried, not taken for
    // the listener's end. The handshake and framing load here: a program
    // (or a child) that imports this module and listens on nothing does not.
    const [{ serveListener }, { SocketChannel }] = await connecting();
    await serveListener(this.#bound, {
      keyFor: (kid) => kid === "" ? this.#authkey : undefined,
      authed: (authed) =>
        this.#results.push({
          value: connectionOf(socketEnd(new SocketChannel(authed)), true, true),
        }),
      // Not queued for accept(): a stranger's failures neither make it
      // throw nor pile up while no one accepts.
      failed: (err) => this.#onRejected?.(err as Error),
    });
    this.#results.end();
  }

  /**
   * The next connection that passed the authkey handshake (Python's
   * `accept()` raises for one that failed; here those go to `onRejected`).
   *
   * @returns The server's end of the connection.
   * @throws {ProcessError} Once the listener is closed.
   */
  async accept(): Promise<Connection> {
    await this.#results.ready(null);
    const m = this.#results.peek();
    if (m === EOF || m === undefined) {
      throw new ProcessError("Cannot accept: the listener is closed");
    }
    this.#results.take();
    return m.value as Connection;
  }

  /** Stops listening (removes a private socket's directory). Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#bound.close();
  }

  /** Closes the listener. */
  [Symbol.asyncDispose](): Promise<void> {
    this.close();
    return Promise.resolve();
  }
}

/**
 * Connects to a {@link Listener} and proves the authkey (both ways), as
 * Python's `multiprocessing.connection.Client`.
 *
 * @param address The listener's address.
 * @param options `authkey` (default: this process tree's; at least 16 bytes).
 * @returns The client's end of the connection.
 * @throws {AuthenticationError} When the keys differ.
 * @throws {RangeError} When the authkey is shorter than 16 bytes.
 *
 * @example A wrong key is refused
 * ```ts
 * import { AuthenticationError, Client, Listener } from "@mp/multiprocessing/connection";
 * import { assertInstanceOf, assertRejects } from "@std/assert";
 *
 * const rejected = Promise.withResolvers<Error>();
 * await using listener = new Listener({
 *   authkey: "the right key, 16+ bytes",
 *   onRejected: rejected.resolve,
 * });
 * await assertRejects(() => Client(listener.address, { authkey: "a wrong key, 16+ bytes" }), AuthenticationError);
 * assertInstanceOf(await rejected.promise, AuthenticationError);
 * ```
 */
export async function Client(
  address: ListenerAddress,
  options: { authkey?: Uint8Array | string } = {},
): Promise<Connection> {
  const [{ connectAuthed }, { SocketChannel }] = await connecting();
  const authed = await connectAuthed(
    toAddress(address, "connect"),
    keyOf(options.authkey, "connect"),
    10_000,
  );
  return connectionOf(socketEnd(new SocketChannel(authed)), true, true);
}
