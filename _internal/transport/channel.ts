/**
 * A message channel: values in, values out, in order, over either an
 * authenticated socket (frames of encoded values) or a worker's message port
 * (the platform's structured clone). Protocols above are written once
 * against {@link Channel}.
 *
 * @module
 */

import type { AuthedConn } from "./sockets.ts";
import { HEADER } from "../wire/framing.ts";
import { checkMessageSize, limits } from "../wire/limits.ts";
import {
  bytesHead,
  BytesMessage,
  decode,
  encodeBytesParts,
  encodeSyncParts,
  jsonPayloadMax,
  jsonText,
  loadV8,
  needsV8,
  writeJsonPayload,
} from "../wire/codec.ts";

import { placementEnded } from "../wire/placements.ts";
import { CLOSED } from "../base/symbols.ts";

export { CLOSED };

/** A bidirectional, ordered message channel. */
export interface Channel {
  /** Sends a value; rejects with `DataCloneError` if it cannot be cloned. */
  send(msg: unknown, transfer?: Transferable[]): Promise<void>;
  /**
   * Encodes and queues a value without waiting for it to be written:
   * resolves once it is queued, rejects if it cannot be cloned. Write
   * errors surface on the next send. `json`: the caller found it exact
   * JSON already (`surelyCloneable`), and nothing changed it since.
   */
  post(msg: unknown, json?: boolean): Promise<void>;
  /** Resolves once everything queued has been written. */
  drain(): Promise<void>;
  /** Bytes encoded and queued, not yet written (0 where the platform queues). */
  queued(): number;
  /** Resolves once at most `bytes` are queued. */
  whenBelow(bytes: number): Promise<void>;
  /** The next value, or {@link CLOSED} once the peer has gone. */
  recv(): Promise<unknown>;
  /** Closes this end. */
  close(): void;
  /** Stops pending receives from keeping the process alive. */
  unref(): void;
  /** Lets pending receives keep the process alive again. */
  ref(): void;
}

/**
 * Buffers received values for {@link Channel.recv}, counting the bytes they
 * came in, so that a socket's reading can pause while they pile up.
 */
class Inbox {
  #items: unknown[] = [];
  #sizes: number[] = [];
  #waiters: ((v: unknown) => void)[] = [];
  #closed = false;
  #drained: (() => void) | undefined;
  /** Bytes of the values waiting to be received. */
  bytes = 0;

  push(v: unknown, size = 0): void {
    const w = this.#waiters.shift();
    if (w) return w(v);
    this.#items.push(v);
    this.#sizes.push(size);
    this.bytes += size;
  }

  end(): void {
    this.#closed = true;
    for (const w of this.#waiters.splice(0)) w(CLOSED);
  }

  /** Whether its receiver waits, every value before handed over (none waits here). */
  waiting(): boolean {
    return this.#waiters.length > 0;
  }

  next(): Promise<unknown> {
    if (this.#items.length > 0) {
      this.bytes -= this.#sizes.shift()!;
      if (this.#drained && this.bytes <= PAUSE_BYTES / 2) this.#drained();
      return Promise.resolve(this.#items.shift());
    }
    if (this.#closed) return Promise.resolve(CLOSED);
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  /** Resolves once half the pause mark is left (or {@link Inbox.resume} is called). */
  drained(): Promise<void> {
    return new Promise((resolve) => (this.#drained = () => (this.#drained = undefined, resolve())));
  }

  /** Lets a paused reading go on (its connection is closing). */
  resume(): void {
    this.#drained?.();
  }
}

/** A socket's reading pauses while this many received bytes wait for {@link Channel.recv}. */
const PAUSE_BYTES = 1 << 20;

/** A channel over an authenticated socket connection. */
export class SocketChannel implements Channel {
  #authed: AuthedConn;
  #inbox = new Inbox();
  #closed = false;
  /** Why the read side ended, when it ended in an error. */
  error: unknown;
  /** The id of the key the peer proved (`""`: the listener's own; see `auth.ts`). */
  readonly kid: string;
  /**
   * Where a large bytes message's bytes may be read instead of a buffer of
   * their own: given its header and their length, a view of exactly that
   * length, or `undefined` (not now). Asked before each read of them until
   * it chooses (see `Splitter`), and only while the receiver waits in
   * {@link SocketChannel.recv} with every message before handed over, so
   * that what it chooses for is the next thing its receiver gets.
   */
  placer: ((header: unknown, length: number) => Uint8Array | undefined) | undefined;
  /** The header and length of the bytes of the message read now, split by its head. */
  #split: { header: unknown; length: number } | undefined;
  /** Where the placer put the bytes of the message read now, until it is read. */
  #placed: Uint8Array | undefined;

  /** Starts reading frames from the connection. */
  constructor(authed: AuthedConn) {
    this.#authed = authed;
    this.kid = authed.kid ?? "";
    authed.reader.splitter = {
      wants: () => this.placer !== undefined,
      head: (head, total) => {
        const h = bytesHead(head);
        this.#split = h && { header: h.header, length: total - h.at };
        return h?.at;
      },
      place: () => {
        const m = this.#split!;
        return this.#placed = this.#inbox.waiting() ? this.placer?.(m.header, m.length) : undefined;
      },
    };
    this.#readLoop();
  }

  async #readLoop(): Promise<void> {
    const reader = this.#authed.reader;
    try {
      while (true) {
        const frame = await reader.next();
        if (frame === null) break;
        const size = frame.length;
        if (reader.tail) {
          // A bytes message, its header read from its head (`frame`), its
          // bytes where the placer chose or in a buffer of their own.
          const { header } = this.#split!;
          this.#placed = undefined;
          this.#inbox.push(new BytesMessage(header, reader.tail), size + reader.tail.length);
        } else if (needsV8(frame)) {
          const owned = reader.owned;
          const copy = owned ? frame : frame.slice();
          await loadV8();
          this.#inbox.push(decode(copy, owned), size);
        } else {
          this.#inbox.push(decode(frame, reader.owned), size);
        }
        // A receiver that does not keep up: stop reading, and the socket's
        // own flow control holds back the sender.
        if (this.#inbox.bytes > PAUSE_BYTES) await this.#inbox.drained();
      }
    } catch (err) {
      if (!this.#closed) this.error = err;
    } finally {
      // A message broken off as it was read into a reader's buffer.
      if (this.#placed) placementEnded(this.#placed);
      this.#inbox.end();
      this.close();
    }
  }

  async send(msg: unknown): Promise<void> {
    const text = jsonText(msg);
    if (text !== undefined) return await this.#writeJson(text);
    if (msg instanceof BytesMessage) {
      // No copy of the bytes: they are written from the caller's buffer,
      // which the caller leaves alone until this resolves.
      const [prefix, body] = encodeBytesParts(msg, HEADER);
      return await this.#authed.writer.write(prefix, body);
    }
    const [frame, body] = await this.#parts(msg);
    await this.#authed.writer.write(frame, body);
  }

  post(msg: unknown, json?: boolean): Promise<void> {
    try {
      const text = jsonText(msg, json);
      // One that might be over the limit takes the path below, which says so here.
      if (text !== undefined && jsonPayloadMax(text) <= limits().message) {
        this.#writeJson(text).catch(() => {});
        return Promise.resolve();
      }
      const parts = encodeSyncParts(msg, HEADER);
      if (parts) return Promise.resolve(this.#queue(parts));
    } catch (err) {
      return Promise.reject(err);
    }
    return this.#parts(msg).then((parts) => this.#queue(parts));
  }

  /**
   * Queues an encoded message without waiting for it to be written; a
   * message over the limit throws here, so that its sender hears of it.
   */
  #queue([frame, body]: Uint8Array[]): void {
    checkMessageSize(frame.length - HEADER + (body?.length ?? 0));
    this.#authed.writer.write(frame, body).catch(() => {});
  }

  /** Writes a message on the JSON path, in place (`FrameWriter.writeWith`): resolves once written. */
  #writeJson(text: string): Promise<void> {
    return this.#authed.writer.writeWith(
      jsonPayloadMax(text),
      (dest) => writeJsonPayload(text, dest),
    );
  }

  drain(): Promise<void> {
    return this.#authed.writer.idle();
  }

  queued(): number {
    return this.#authed.writer.queued;
  }

  whenBelow(bytes: number): Promise<void> {
    return this.#authed.writer.whenBelow(bytes);
  }

  async #parts(msg: unknown): Promise<Uint8Array[]> {
    const parts = encodeSyncParts(msg, HEADER);
    if (parts) return parts;
    // Encoded once V8's serializer is loaded: from a copy made now, so that
    // a change the sender makes meanwhile does not go with it.
    const now = structuredClone(msg);
    await loadV8();
    return encodeSyncParts(now, HEADER)!;
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
    this.#inbox.resume();
  }

  unref(): void {
    this.#authed.conn.unref();
  }

  ref(): void {
    this.#authed.conn.ref();
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

/** What a {@link PortChannel}'s `receive` returns for a message it does not keep. */
export const SKIP: unique symbol = Symbol("skip");

/** A channel over a worker's message port. */
export class PortChannel implements Channel {
  #port: MessagePortLike;
  #inbox = new Inbox();
  #receive: (data: unknown) => unknown;
  #listener = (e: MessageEvent) => {
    const v = this.#receive(e.data);
    if (v !== SKIP) this.#inbox.push(v);
  };

  /**
   * Starts listening on the port; `receive` maps what arrives to what
   * {@link PortChannel.recv} gives ({@link SKIP}: nothing, it is someone else's).
   */
  constructor(port: MessagePortLike, receive: (data: unknown) => unknown = (d) => d) {
    this.#port = port;
    this.#receive = receive;
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

  queued(): number {
    return 0;
  }

  whenBelow(): Promise<void> {
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

  ref(): void {}
}
