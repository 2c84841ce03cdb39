/**
 * Pipes and authenticated connections, as Python's `multiprocessing.Pipe`
 * and `multiprocessing.connection` (`Listener`, `Client`, `wait`).
 *
 * `Pipe()` returns two {@link Connection}s; either end can be passed to a
 * child of either start method, and what is sent on one end is received on
 * the other, in order, never merged or split. `Listener` and `Client`
 * connect processes that share no ancestry, over a Unix socket or TCP, after
 * the HMAC authkey challenge in both directions.
 *
 * @example A pipe to a child
 * ```ts
 * import { Pipe, Process } from "./mod.ts";
 * import { assertEquals } from "@std/assert";
 *
 * const module = new URL("./tests/fixtures/pipe_targets.ts", import.meta.url).href;
 * const { echo } = await import(module);
 *
 * const [here, there] = Pipe();
 * await using p = new Process({ target: echo, args: [there], module });
 * await p.start();
 * await here.send({ hello: "child" });
 * assertEquals(await here.recv(), { hello: "child" });
 * here.close();
 * await p.join();
 * ```
 *
 * @module
 */

import { ProcessError } from "./_internal/errors.ts";
import { type Descriptor, registerReviver, TO_DESCRIPTOR } from "./_internal/handles.ts";
import { EOF, type Message, MessageInbox } from "./_internal/inbox.ts";
import { LocalRef, refFor } from "./_internal/objects.ts";
import { PipeCore } from "./_internal/pipe_core.ts";
import {
  type Endpoint,
  hostedPipe,
  hostPipe,
  localEnd,
  remoteEnd,
  socketEnd,
} from "./_internal/endpoints.ts";
import { SocketChannel } from "./_internal/channel.ts";
import { state } from "./_internal/state.ts";
import {
  acceptAuthed,
  type Address,
  type BoundListener,
  connectAuthed,
  listen,
} from "./_internal/transport.ts";

export { AuthenticationError } from "./_internal/errors.ts";

/**
 * Raised by `recv` once the other end is closed and every message sent
 * before has been received (Python's `EOFError`).
 *
 * @example
 * ```ts
 * import { EOFError, Pipe } from "./connection.ts";
 * import { assertRejects } from "@std/assert";
 *
 * const [a, b] = Pipe();
 * b.close();
 * await assertRejects(() => a.recv(), EOFError);
 * ```
 */
export class EOFError extends ProcessError {}

const REVIVE = Symbol("revive");

/**
 * One end of a pipe, or a connection made by {@link Listener} and
 * {@link Client}. Messages are values (structured clone) or raw bytes.
 *
 * @example Bytes by offset and size
 * ```ts
 * import { Pipe } from "./connection.ts";
 * import { assertEquals } from "@std/assert";
 *
 * const [a, b] = Pipe();
 * await a.sendBytes(new Uint8Array([1, 2, 3, 4, 5]), 1, 3);
 * assertEquals(await b.recvBytes(), new Uint8Array([2, 3, 4]));
 * ```
 */
export class Connection {
  #endpoint: Endpoint;
  #readable: boolean;
  #writable: boolean;
  #closed = false;

  /** @internal Connections come from {@link Pipe}, {@link Listener} and {@link Client}. */
  constructor(token: unknown) {
    const t = token as { [REVIVE]?: [Endpoint, boolean, boolean] };
    if (!t?.[REVIVE]) {
      throw new TypeError("Cannot create a Connection directly: use Pipe(), Listener or Client()");
    }
    [this.#endpoint, this.#readable, this.#writable] = t[REVIVE];
  }

  /** Whether this end has been closed here. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Whether this end can receive. */
  get readable(): boolean {
    return this.#readable;
  }

  /** Whether this end can send. */
  get writable(): boolean {
    return this.#writable;
  }

  #check(action: string, write: boolean): void {
    if (this.#closed) throw new ProcessError(`Cannot ${action}: the connection is closed`);
    if (write && !this.#writable) {
      throw new ProcessError(`Cannot ${action}: this end of the pipe is read-only`);
    }
    if (!write && !this.#readable) {
      throw new ProcessError(`Cannot ${action}: this end of the pipe is write-only`);
    }
  }

  /**
   * Sends a value (structured clone: Map, Set, Date, BigInt, typed arrays,
   * cycles, errors…).
   *
   * @param value What to send.
   * @param options `transfer`: buffers to move rather than copy when the
   * reader is this process or one of its worker children (they are detached
   * here); elsewhere they are copied.
   * @throws {DOMException} `DataCloneError` when it cannot be cloned.
   * @throws {ProcessError} When closed, or read-only.
   */
  async send(value: unknown, options: { transfer?: Transferable[] } = {}): Promise<void> {
    this.#check("send", true);
    await this.#endpoint.send(value, options.transfer);
  }

  /**
   * Sends `size` bytes of `buffer` from `offset` as one message.
   *
   * @throws {RangeError} When offset or size fall outside the buffer.
   */
  async sendBytes(buffer: ArrayBuffer | ArrayBufferView, offset = 0, size?: number): Promise<void> {
    this.#check("send bytes", true);
    const bytes = buffer instanceof ArrayBuffer
      ? new Uint8Array(buffer)
      : new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
    if (!Number.isInteger(offset) || offset < 0 || offset > bytes.length) {
      throw new RangeError(
        `Cannot send bytes: offset ${offset} is outside the buffer of ${bytes.length} bytes`,
      );
    }
    const n = size ?? bytes.length - offset;
    if (!Number.isInteger(n) || n < 0 || offset + n > bytes.length) {
      throw new RangeError(
        `Cannot send bytes: offset ${offset} + size ${size} exceeds the buffer of ${bytes.length} bytes`,
      );
    }
    await this.#endpoint.sendBytes(bytes.subarray(offset, offset + n));
  }

  async #next(action: string): Promise<Message> {
    this.#check(action, false);
    await this.#endpoint.ready;
    await this.#endpoint.inbox.ready(null);
    const m = this.#endpoint.inbox.peek()!;
    if (m === EOF) throw new EOFError(`Cannot ${action}: the other end is closed`);
    return m;
  }

  /**
   * Receives the next message: the value sent, or a `Uint8Array` for bytes.
   *
   * @throws {EOFError} When the other end is closed and nothing is left.
   */
  async recv(): Promise<unknown> {
    const m = await this.#next("receive");
    this.#endpoint.inbox.take();
    return m.bytes ?? m.value;
  }

  /**
   * Receives the next message, which must have been sent as bytes.
   *
   * @param maxlength Longest message accepted; a longer one is left unread.
   * @throws {RangeError} When the message is longer than `maxlength`.
   * @throws {TypeError} When the next message was sent with `send()`.
   * @throws {EOFError} When the other end is closed and nothing is left.
   */
  async recvBytes(maxlength?: number): Promise<Uint8Array> {
    const m = await this.#next("receive bytes");
    if (!m.bytes) {
      throw new TypeError(
        "Cannot receive bytes: the next message was sent with send(), not sendBytes()",
      );
    }
    if (maxlength !== undefined && m.bytes.length > maxlength) {
      throw new RangeError(
        `Cannot receive bytes: the message is ${m.bytes.length} bytes, more than maxlength ${maxlength}`,
      );
    }
    this.#endpoint.inbox.take();
    return m.bytes;
  }

  /**
   * Receives a bytes message into `buffer` at `offset`; resolves its length.
   *
   * @throws {RangeError} When it does not fit (the message is left unread).
   */
  async recvBytesInto(buffer: ArrayBufferView, offset = 0): Promise<number> {
    const view = new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
    const m = await this.#next("receive bytes");
    if (!m.bytes) {
      throw new TypeError("Cannot receive bytes: the next message was sent with send()");
    }
    if (offset < 0 || offset + m.bytes.length > view.length) {
      throw new RangeError(
        `Cannot receive bytes: ${m.bytes.length} bytes do not fit at offset ${offset}`,
      );
    }
    this.#endpoint.inbox.take();
    view.set(m.bytes, offset);
    return m.bytes.length;
  }

  /**
   * Whether a message (or end-of-file) can be received now, waiting up to
   * `timeout` ms for one (`null`: as long as it takes).
   */
  async poll(timeout: number | null = 0): Promise<boolean> {
    this.#check("poll", false);
    if (timeout !== null && !(typeof timeout === "number" && timeout >= 0)) {
      throw new RangeError(
        `Cannot poll: 'timeout' must be a non-negative number or null, received ${timeout}`,
      );
    }
    await this.#endpoint.ready;
    return await this.#endpoint.inbox.ready(timeout);
  }

  /** Closes this end; the other end receives what was sent, then EOF. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#endpoint.close();
  }

  /** Closes this end. */
  [Symbol.asyncDispose](): Promise<void> {
    this.close();
    return Promise.resolve();
  }

  /** @internal Describes a pipe end for another process. */
  [TO_DESCRIPTOR](): Promise<Descriptor> {
    if (!this.#endpoint.describe) {
      return Promise.reject(
        new TypeError("Cannot pass a Listener/Client connection to another process: use Pipe()"),
      );
    }
    if (this.#closed) return Promise.reject(new ProcessError("Cannot pass a closed connection"));
    return this.#endpoint.describe().then((d) => ({
      ...d,
      extra: { ...d.extra, readable: this.#readable, writable: this.#writable },
    }));
  }

  /** Waits until this connection has something to receive (for {@link wait}). */
  waitReady(signal: AbortSignal): Promise<boolean> {
    return this.#endpoint.ready.then(() => this.#endpoint.inbox.ready(null, signal));
  }
}

function connectionOf(endpoint: Endpoint, readable: boolean, writable: boolean): Connection {
  return new Connection({ [REVIVE]: [endpoint, readable, writable] });
}

registerReviver("pipe", async (d) => {
  const ref = refFor(d.address, d.id);
  const end = d.extra!.end as 0 | 1;
  const endpoint = ref.local
    ? localEnd(ref as LocalRef, hostedPipe(ref as LocalRef), end)
    : remoteEnd(ref, end, d);
  // Attached before the child reports started: from then on, its death
  // closes its end, and the other side sees EOF instead of waiting.
  await endpoint.ready;
  return connectionOf(endpoint, d.extra!.readable as boolean, d.extra!.writable as boolean);
});

/**
 * Creates a pipe: two connected {@link Connection}s, hosted by this process.
 * With `duplex` false, the first can only receive and the second only send.
 *
 * @param duplex Both ends send and receive.
 * @returns `[conn1, conn2]`.
 *
 * @example
 * ```ts
 * import { Pipe } from "./connection.ts";
 * import { assertEquals } from "@std/assert";
 *
 * const [reader, writer] = Pipe(false);
 * await writer.send(new Map([["k", 1]]));
 * assertEquals(await reader.poll(), true);
 * assertEquals(await reader.recv(), new Map([["k", 1]]));
 * assertEquals(writer.readable, false);
 * ```
 */
export function Pipe(duplex = true): [Connection, Connection] {
  const core = new PipeCore();
  const ref = new LocalRef(core);
  core.id = ref.id;
  core.onClosed = () => ref.release();
  hostPipe(ref, core);
  return [
    connectionOf(localEnd(ref, core, 0), true, duplex),
    connectionOf(localEnd(ref, core, 1), duplex, true),
  ];
}

function bindAddress(where: ListenerAddress): BoundListener {
  const a = toAddress(where);
  const listener = a.transport === "unix"
    ? Deno.listen({ transport: "unix", path: a.path })
    : Deno.listen({ transport: "tcp", hostname: a.hostname, port: a.port });
  const address: Address = a.transport === "unix"
    ? a
    : { transport: "tcp", hostname: a.hostname, port: (listener.addr as Deno.NetAddr).port };
  return { listener, address, close: () => listener.close() };
}

/** Where a {@link Listener} listens: a Unix socket path, or a TCP host and port. */
export type ListenerAddress = { path: string } | { hostname?: string; port: number };

function toAddress(a: ListenerAddress): Address {
  return "path" in a
    ? { transport: "unix", path: a.path }
    : { transport: "tcp", hostname: a.hostname ?? "127.0.0.1", port: a.port };
}

function fromAddress(a: Address): ListenerAddress {
  return a.transport === "unix" ? { path: a.path } : { hostname: a.hostname, port: a.port };
}

function keyOf(authkey: Uint8Array | string | undefined): Uint8Array {
  if (authkey === undefined) return state().authkey;
  return typeof authkey === "string" ? new TextEncoder().encode(authkey) : authkey;
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
 * import { Client, Listener } from "./connection.ts";
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
    try {
      for await (const conn of this.#bound.listener) {
        // Handshakes run side by side: a stalled client holds up no one.
        acceptAuthed(conn, this.#authkey).then(
          (authed) =>
            this.#results.push({
              value: connectionOf(socketEnd(new SocketChannel(authed)), true, true),
            }),
          (err) => this.#results.push({ value: err }),
        );
      }
    } catch {
      // Closed.
    }
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
 * import { AuthenticationError, Client, Listener } from "./connection.ts";
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
  const authed = await connectAuthed(toAddress(address), keyOf(options.authkey), 10_000);
  return connectionOf(socketEnd(new SocketChannel(authed)), true, true);
}

/** What {@link wait} waits on: connections, processes (their exit), promises. */
export type Waitable = Connection | { sentinel: Promise<unknown> } | Promise<unknown>;

/**
 * Waits until at least one object is ready, as Python's
 * `multiprocessing.connection.wait`: a connection with something to
 * receive (or EOF), a process that has exited, a promise that has settled.
 *
 * @param objects What to wait on.
 * @param timeout Milliseconds at most (default: as long as it takes).
 * @returns The ready objects (empty after a timeout).
 *
 * @example
 * ```ts
 * import { Pipe, wait } from "./connection.ts";
 * import { assertEquals } from "@std/assert";
 *
 * const [a, b] = Pipe();
 * const [c, d] = Pipe();
 * await d.send("x");
 * assertEquals(await wait([a, c], 100), [c]);
 * assertEquals(await wait([a], 10), []);
 * b.close();
 * ```
 */
export async function wait<T extends Waitable>(objects: T[], timeout?: number): Promise<T[]> {
  const ctl = new AbortController();
  const ready = new Set<T>();
  const watches = objects.map((o) => watch(o, ctl.signal).then(() => void ready.add(o), () => {}));
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    await Promise.race([
      Promise.race(watches),
      ...(timeout === undefined ? [] : [new Promise((r) => (timer = setTimeout(r, timeout)))]),
    ]);
    // Let the others that are already ready say so.
    await Promise.resolve();
  } finally {
    clearTimeout(timer);
    ctl.abort();
  }
  return objects.filter((o) => ready.has(o));
}

function watch(o: Waitable, signal: AbortSignal): Promise<unknown> {
  if (o instanceof Connection) return o.waitReady(signal);
  if (o instanceof Promise) return o.then(() => {}, () => {});
  return o.sentinel.then(() => {}, () => {});
}
