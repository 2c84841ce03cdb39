/**
 * `Listener` and `Client`: authenticated connections between processes that
 * share no ancestry, as Python's `multiprocessing.connection`.
 *
 * @module
 */

import { ProcessError } from "../_internal/base/errors.ts";
import { EOF, MessageInbox } from "../_internal/primitives/inbox.ts";
import { socketEnd } from "../_internal/primitives/pipe_endpoints.ts";
import { SocketChannel } from "../_internal/transport/channel.ts";
import { state } from "../_internal/base/state.ts";
import {
  bound,
  type BoundListener,
  connectAuthed,
  listen,
  serveListener,
} from "../_internal/transport/sockets.ts";
import { type Address, fromAddress, toAddress, toAuthkey } from "../_internal/transport/address.ts";
export { AuthenticationError } from "../_internal/base/errors.ts";
import { type Connection, connectionOf } from "./connection.ts";

function bindAddress(where: ListenerAddress): BoundListener {
  const a = toAddress(where, "listen");
  const listener = a.transport === "unix"
    ? Deno.listen({ transport: "unix", path: a.path })
    : Deno.listen({ transport: "tcp", hostname: a.hostname, port: a.port });
  const address: Address = a.transport === "unix"
    ? a
    : { transport: "tcp", hostname: a.hostname, port: (listener.addr as Deno.NetAddr).port };
  return bound(listener, address, () => listener.close());
}

/** Where a {@link Listener} listens: a Unix socket path, or a TCP host and port. */
export type ListenerAddress = { path: string } | { hostname?: string; port: number };

function keyOf(authkey: Uint8Array | string | undefined): Uint8Array {
  return authkey === undefined ? state().authkey : toAuthkey(authkey);
}

/** Options of {@link Listener}. */
export interface ListenerOptions {
  /**
   * Where to listen.
   * @default {a fresh private Unix socket (TCP on loopback where there are none)}
   */
  address?: ListenerAddress;
  /**
   * The shared secret clients must prove they hold.
   * @default {this process tree's authkey}
   */
  authkey?: Uint8Array | string;
}

/**
 * Accepts authenticated connections, as Python's
 * `multiprocessing.connection.Listener`. A client that holds the wrong key,
 * sends garbage or stalls fails its own connection only.
 *
 * @example
 * ```ts
 * import { Client, Listener } from "../connection.ts";
 * import { assertEquals } from "@std/assert";
 *
 * await using listener = new Listener({ authkey: "secret" });
 * const accepting = listener.accept();
 * await using client = await Client(listener.address, { authkey: "secret" });
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

  /**
   * Starts listening.
   *
   * @param options Address and authkey.
   * @throws {Deno.errors.AddrInUse} When the address is taken.
   */
  constructor(options: ListenerOptions = {}) {
    this.#authkey = keyOf(options.authkey);
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
    // the listener's end.
    await serveListener(this.#bound, {
      authkey: () => this.#authkey,
      authed: (authed) =>
        this.#results.push({
          value: connectionOf(socketEnd(new SocketChannel(authed)), true, true),
        }),
      failed: (err) => this.#results.push({ value: err }),
    });
    this.#results.end();
  }

  /**
   * The next authenticated connection.
   *
   * @throws {AuthenticationError} For a client that failed the challenge.
   * @throws {ProcessError} Once the listener is closed.
   */
  async accept(): Promise<Connection> {
    await this.#results.ready(null);
    const m = this.#results.peek();
    if (m === EOF || m === undefined) {
      throw new ProcessError("Cannot accept: the listener is closed");
    }
    this.#results.take();
    if (m.value instanceof Error) throw m.value;
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
 * @param options `authkey` (default: this process tree's).
 * @throws {AuthenticationError} When the keys differ.
 *
 * @example
 * ```ts
 * import { AuthenticationError, Client, Listener } from "../connection.ts";
 * import { assertRejects } from "@std/assert";
 *
 * await using listener = new Listener({ authkey: "right" });
 * await assertRejects(() => Client(listener.address, { authkey: "wrong" }), AuthenticationError);
 * await assertRejects(() => listener.accept(), AuthenticationError);
 * ```
 */
export async function Client(
  address: ListenerAddress,
  options: { authkey?: Uint8Array | string } = {},
): Promise<Connection> {
  const authed = await connectAuthed(toAddress(address, "connect"), keyOf(options.authkey), 10_000);
  return connectionOf(socketEnd(new SocketChannel(authed)), true, true);
}
