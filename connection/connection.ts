/**
 * `Connection`: one end of a pipe, or a connection made by `Listener` and
 * `Client`. Messages are values (structured clone) or raw bytes.
 *
 * @module
 */

import { ProcessError } from "../_internal/base/errors.ts";
import { timedWait, type WaitOptions } from "../_internal/base/waits.ts";
import { type Descriptor, type PackContext, registerReviver } from "../_internal/hub/handles.ts";
import { SEND_TAKEN, TO_DESCRIPTOR } from "../_internal/base/symbols.ts";
import { EOF, type Message } from "../_internal/primitives/inbox.ts";
import { type LocalRef, refFor } from "../_internal/hub/refs.ts";
import {
  type Endpoint,
  hostedPipe,
  localEnd,
  remoteEnd,
} from "../_internal/primitives/pipe_endpoints.ts";
import { EOFError } from "../_internal/base/errors.ts";
import { giveBackBuffer } from "../_internal/wire/spare_buffers.ts";

const REVIVE = Symbol("revive");

/** Throws unless `offset` is a whole number from 0 to `length` (a buffer's bytes). */
function checkOffset(action: string, offset: number, length: number): void {
  if (!Number.isInteger(offset) || offset < 0 || offset > length) {
    throw new RangeError(
      `Cannot ${action}: offset ${offset} is outside the buffer of ${length} bytes`,
    );
  }
}

/**
 * One end of a pipe, or a connection made by {@link Listener} and
 * {@link Client}. Messages are values (structured clone) or raw bytes.
 *
 * @example Bytes by offset and size
 * ```ts
 * import { Pipe } from "@mp/multiprocessing/connection";
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

  /**
   * Connections come from {@link Pipe}, {@link Listener} and {@link Client}.
   *
   * @ignore
   */
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
   * The value is taken at the call, as Python pickles it: a change made to
   * it afterwards, whether or not the send was awaited, does not go with it.
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
   * Sends a value the library took already (see `SEND_TAKEN`): not copied again.
   *
   * @ignore
   */
  async [SEND_TAKEN](value: unknown): Promise<void> {
    this.#check("send", true);
    await this.#endpoint.send(value, undefined, true);
  }

  /**
   * Sends `size` bytes of `buffer` from `offset` as one message.
   *
   * The bytes may be written from `buffer` itself, not from a copy (as a
   * stream's `write` does): leave them unchanged until the returned promise
   * resolves.
   *
   * @param buffer Where the bytes are.
   * @param offset Where they start in it (default 0).
   * @param size How many (default: the rest of the buffer).
   * @throws {RangeError} When offset or size fall outside the buffer.
   */
  async sendBytes(buffer: ArrayBuffer | ArrayBufferView, offset = 0, size?: number): Promise<void> {
    this.#check("send bytes", true);
    const bytes = buffer instanceof ArrayBuffer
      ? new Uint8Array(buffer)
      : new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
    checkOffset("send bytes", offset, bytes.length);
    const n = size ?? bytes.length - offset;
    if (!Number.isInteger(n) || n < 0 || offset + n > bytes.length) {
      throw new RangeError(
        `Cannot send bytes: offset ${offset} + size ${size} exceeds the buffer of ${bytes.length} bytes`,
      );
    }
    await this.#endpoint.sendBytes(bytes.subarray(offset, offset + n));
  }

  /** The next message, waiting for it; `room`: offered for its bytes meanwhile. */
  async #next(action: string, room?: Uint8Array): Promise<Message> {
    this.#check(action, false);
    await this.#endpoint.ready;
    const withdraw = room && this.#endpoint.inbox.offer(room);
    try {
      await this.#endpoint.inbox.ready(null);
    } finally {
      withdraw?.();
    }
    const m = this.#endpoint.inbox.peek()!;
    if (m === EOF) throw new EOFError(`Cannot ${action}: the other end is closed`);
    return m;
  }

  /**
   * Receives the next message, waiting for it.
   *
   * @returns The value sent, or a `Uint8Array` for bytes.
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
   * Any length when left out.
   * @returns The message's bytes.
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
   * The fastest way to receive a stream of large messages. One that comes
   * over a socket (from a subprocess, or a `Client`) while this waits is
   * read straight into `buffer`. One that arrived before is copied in, and
   * the memory it was read into is used again for the next one of its
   * size, where `recvBytes()` hands out each in memory of its own. Leave
   * `buffer` alone until this settles: its bytes may be written meanwhile.
   *
   * @param buffer Where the message's bytes go.
   * @param offset Where in `buffer` they start (default 0).
   * @returns The message's length in bytes.
   * @throws {RangeError} When it does not fit, or `offset` is not a whole
   * number within `buffer` (the message is left unread).
   * @throws {TypeError} When `buffer` is not an `ArrayBufferView`, or the
   * next message was sent with `send()`.
   * @throws {EOFError} When the other end is closed and nothing is left.
   */
  async recvBytesInto(buffer: ArrayBufferView, offset = 0): Promise<number> {
    if (!ArrayBuffer.isView(buffer)) {
      throw new TypeError("Cannot receive bytes: the buffer is not an ArrayBufferView");
    }
    checkOffset("receive bytes", offset, buffer.byteLength);
    const view = new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
    const m = await this.#next("receive bytes", view.subarray(offset));
    if (!m.bytes) {
      throw new TypeError("Cannot receive bytes: the next message was sent with send()");
    }
    if (offset + m.bytes.length > view.length) {
      throw new RangeError(
        `Cannot receive bytes: ${m.bytes.length} bytes do not fit at offset ${offset}`,
      );
    }
    this.#endpoint.inbox.take();
    // Read straight into `view` as this waited (from a socket), or copied.
    if (this.#endpoint.inbox.placed(m.bytes)) return m.bytes.length;
    view.set(m.bytes, offset);
    // Nothing holds the message's own buffer now: the next one of its size
    // is read into it (see spare_buffers.ts).
    giveBackBuffer(m.bytes);
    return m.bytes.length;
  }

  /**
   * Whether a message (or end-of-file) can be received now, waiting up to
   * `timeout` ms for one. As Python's, `poll()` does not wait (its default
   * timeout is 0); `null` waits as long as it takes.
   *
   * @param options Milliseconds to wait (default 0; `null`: for ever), or
   * `{ timeout, signal }` (a missing `timeout` there waits for ever).
   * @returns Whether something can be received; `false` at the timeout.
   * @throws {RangeError} On a negative timeout.
   * @throws {TypeError} On an unknown option.
   * @throws The signal's reason once it aborts the wait.
   */
  async poll(options: number | null | WaitOptions = 0): Promise<boolean> {
    this.#check("poll", false);
    const { timeout, signal } = timedWait("poll", options);
    await this.#endpoint.ready;
    return await this.#endpoint.inbox.ready(timeout ?? null, signal);
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

  /**
   * Describes a pipe end for another process.
   *
   * @ignore
   */
  [TO_DESCRIPTOR](ctx?: PackContext): Promise<Descriptor> {
    if (!this.#endpoint.describe) {
      return Promise.reject(
        new TypeError("Cannot pass a Listener/Client connection to another process: use Pipe()"),
      );
    }
    if (this.#closed) return Promise.reject(new ProcessError("Cannot pass a closed connection"));
    return this.#endpoint.describe(ctx).then((d) => ({
      ...d,
      extra: { ...d.extra, readable: this.#readable, writable: this.#writable },
    }));
  }

  /**
   * Waits until this connection has something to receive (for `wait()`).
   *
   * @ignore
   */
  waitReady(signal: AbortSignal): Promise<boolean> {
    return this.#endpoint.ready.then(() => this.#endpoint.inbox.ready(null, signal));
  }
}

/** A connection over an endpoint (the constructor is closed to users). */
export function connectionOf(endpoint: Endpoint, readable: boolean, writable: boolean): Connection {
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
