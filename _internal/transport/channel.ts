/**
 * A message channel: values in, values out, in order, over either an
 * authenticated socket (frames of encoded values) or a worker's message port
 * (the platform's structured clone). Protocols above are written once
 * against {@link Channel}.
 *
 * @module
 */

import type { AuthedConn } from "./sockets.ts";
import { HEADER, writeHeader } from "../wire/framing.ts";
import {
  BytesMessage,
  decode,
  encode,
  encodeBytesParts,
  encodeSync,
  loadV8,
  needsV8,
} from "../wire/codec.ts";

/** Returned by {@link Channel.recv} once the peer is gone. */
export const CLOSED: unique symbol = Symbol("closed");

/** A bidirectional, ordered message channel. */
export interface Channel {
  /** Sends a value; rejects with `DataCloneError` if it cannot be cloned. */
  send(msg: unknown, transfer?: Transferable[]): Promise<void>;
  /**
   * Encodes and queues a value without waiting for it to be written:
   * resolves once it is queued, rejects if it cannot be cloned. Write
   * errors surface on the next send.
   */
  post(msg: unknown): Promise<void>;
  /** Resolves once everything queued has been written. */
  drain(): Promise<void>;
  /** The next value, or {@link CLOSED} once the peer has gone. */
  recv(): Promise<unknown>;
  /** Closes this end. */
  close(): void;
  /** Stops (or restarts) pending receives from keeping the process alive. */
  unref(): void;
}

/** Buffers received values for {@link Channel.recv}. */
class Inbox {
  #items: unknown[] = [];
  #waiters: ((v: unknown) => void)[] = [];
  #closed = false;

  push(v: unknown): void {
    const w = this.#waiters.shift();
    if (w) w(v);
    else this.#items.push(v);
  }

  end(): void {
    this.#closed = true;
    for (const w of this.#waiters.splice(0)) w(CLOSED);
  }

  next(): Promise<unknown> {
    if (this.#items.length > 0) return Promise.resolve(this.#items.shift());
    if (this.#closed) return Promise.resolve(CLOSED);
    return new Promise((resolve) => this.#waiters.push(resolve));
  }
}

/** A channel over an authenticated socket connection. */
export class SocketChannel implements Channel {
  #authed: AuthedConn;
  #inbox = new Inbox();
  #closed = false;
  /** Why the read side ended, when it ended in an error. */
  error: unknown;

  /** Starts reading frames from the connection. */
  constructor(authed: AuthedConn) {
    this.#authed = authed;
    this.#readLoop();
  }

  async #readLoop(): Promise<void> {
    const reader = this.#authed.reader;
    try {
      while (true) {
        const frame = await reader.next();
        if (frame === null) break;
        if (needsV8(frame)) {
          const copy = frame.slice();
          await loadV8();
          this.#inbox.push(decode(copy));
        } else {
          this.#inbox.push(decode(frame, reader.owned));
        }
      }
    } catch (err) {
      if (!this.#closed) this.error = err;
    } finally {
      this.#inbox.end();
      this.close();
    }
  }

  async send(msg: unknown): Promise<void> {
    if (msg instanceof BytesMessage) {
      // No copy of the bytes: they are written from the caller's buffer,
      // which the caller leaves alone until this resolves.
      const [prefix, body] = encodeBytesParts(msg, HEADER);
      writeHeader(prefix, prefix.length - HEADER + body.length);
      return await this.#authed.writer.write(prefix, body);
    }
    await this.#authed.writer.write(await this.#frame(msg));
  }

  post(msg: unknown): Promise<void> {
    try {
      const frame = encodeSync(msg, HEADER);
      if (frame) {
        writeHeader(frame, frame.length - HEADER);
        this.#authed.writer.write(frame).catch(() => {});
        return Promise.resolve();
      }
    } catch (err) {
      return Promise.reject(err);
    }
    return this.#frame(msg).then((frame) => {
      this.#authed.writer.write(frame).catch(() => {});
    });
  }

  drain(): Promise<void> {
    return this.#authed.writer.idle();
  }

  async #frame(msg: unknown): Promise<Uint8Array> {
    const frame = encodeSync(msg, HEADER) ?? await encode(msg, HEADER);
    writeHeader(frame, frame.length - HEADER);
    return frame;
  }

  recv(): Promise<unknown> {
    return this.#inbox.next();
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.#authed.conn.close();
    } catch { /* already closed */ }
  }

  unref(): void {
    this.#authed.conn.unref();
  }
}

/** What both a `Worker` and a worker's global scope offer. */
export interface MessagePortLike {
  postMessage(msg: unknown, transfer?: Transferable[]): void;
  addEventListener(type: "message", listener: (e: MessageEvent) => void): void;
  removeEventListener(
    type: "message",
    listener: (e: MessageEvent) => void,
  ): void;
}

/** A channel over a worker's message port. */
export class PortChannel implements Channel {
  #port: MessagePortLike;
  #inbox = new Inbox();
  #listener = (e: MessageEvent) => this.#inbox.push(e.data);

  /** Starts listening on the port. */
  constructor(port: MessagePortLike) {
    this.#port = port;
    port.addEventListener("message", this.#listener);
  }

  send(msg: unknown, transfer?: Transferable[]): Promise<void> {
    try {
      this.#port.postMessage(msg, transfer ?? []);
      return Promise.resolve();
    } catch (err) {
      return Promise.reject(err);
    }
  }

  post(msg: unknown): Promise<void> {
    return this.send(msg);
  }

  drain(): Promise<void> {
    return Promise.resolve();
  }

  recv(): Promise<unknown> {
    return this.#inbox.next();
  }

  /** Ends the inbox: the peer is gone (the worker exited). */
  end(): void {
    this.#inbox.end();
  }

  close(): void {
    this.#port.removeEventListener("message", this.#listener);
    this.#inbox.end();
  }

  unref(): void {}
}
