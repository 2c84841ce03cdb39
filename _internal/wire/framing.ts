/**
 * Length-prefixed frames on a byte stream: a 4-byte big-endian word, then
 * that many bytes. Lengths are checked against a bound before anything is
 * allocated, so a malformed or hostile peer costs at most one closed
 * connection.
 *
 * A message longer than a piece (`limits().piece`) goes as several frames:
 * the word's top bit says "more pieces follow", and the first piece starts
 * with the message's total length (8 bytes), so the reader allocates the
 * message once, checked against `limits().message`, and reads every piece
 * straight into it. A frame is therefore never larger than a piece, however
 * large the message: the frame limit can be far below the message limit.
 *
 * @module
 */

import { checkMessageSize, limits } from "./limits.ts";
import { giveBackBuffer, messageBuffer } from "./spare_buffers.ts";

/** Bytes of the length prefix. */
export const HEADER = 4;

/** The prefix's top bit: more pieces of this message follow. */
const MORE = 0x80000000;

/** Bytes of the total length at the start of a message's first piece. */
const TOTAL = 8;

/** What frames are read from: a connection's read side. */
export interface ByteReader {
  /** Reads into `p`; resolves the byte count, or `null` at end of stream. */
  read(p: Uint8Array): Promise<number | null>;
}

/** What frames are written to: a connection's write side. */
export interface ByteWriter {
  /** Writes some of `p`; resolves how many bytes were written. */
  write(p: Uint8Array): Promise<number>;
}

/** A frame that breaks the protocol: its connection is closed, nothing else. */
export class FrameError extends Error {
  /** Creates a frame error. */
  constructor(message: string) {
    super(message);
    this.name = "FrameError";
  }
}

/**
 * The read buffer starts small (an idle or unauthenticated connection costs
 * little) and doubles, up to this, while reads keep filling it (a stream of
 * small frames is then read in large reads).
 */
const INITIAL_BUFFER = 2048;
const STREAM_BUFFER = 64 * 1024;

/** Frames from this size up are read into a buffer of their own. */
const LARGE_FRAME = 256 * 1024;

/**
 * Splits a large message (a frame read straight from the stream, or a
 * message in pieces) into a head, returned by {@link FrameReader.next}, and
 * a tail, in {@link FrameReader.tail}, which may be read straight into a
 * view of the splitter's choosing instead of a buffer of its own.
 *
 * The view may be chosen late: the splitter is asked before each read of
 * the tail, the bytes read until it chooses (into a buffer of their own)
 * are copied over, and the rest is read straight in.
 */
export interface Splitter {
  /** Whether a message of `total` bytes may be split: only then is its head read first. */
  wants(total: number): boolean;
  /**
   * Where the tail of a message of `total` bytes starts, given its first
   * bytes (`head`: up to {@link SPLIT_HEAD} of them), or `undefined` to read
   * it whole as usual.
   */
  head(head: Uint8Array, total: number): number | undefined;
  /**
   * Where the tail of the message split last goes, asked before each read
   * of it until it says: a view of exactly the tail's length, or
   * `undefined` (not now).
   */
  place(): Uint8Array | undefined;
}

/** The most of a large message's first bytes a {@link Splitter} is shown. */
export const SPLIT_HEAD = 1024;

/** Reads frames from a stream. */
export class FrameReader {
  #reader: ByteReader;
  #buf = new Uint8Array(INITIAL_BUFFER);
  #start = 0;
  #end = 0;
  #grow = false;

  /** Wraps a readable connection. */
  constructor(reader: ByteReader) {
    this.#reader = reader;
  }

  /**
   * Whether the last message returned is a buffer of its own (a large frame
   * or a message in pieces, read straight into it), which the caller may
   * keep without copying.
   */
  owned = false;

  /** Consulted for each large message (see {@link Splitter}). */
  splitter: Splitter | undefined;
  /** Where the current large message (its tail, when split) is read, once known. */
  #dest: Uint8Array | undefined;
  /** Its length. */
  #size = 0;
  /** Whether the splitter may still choose where it goes. */
  #movable = false;

  /**
   * The tail of the last message returned, when a {@link Splitter} split it:
   * the message's bytes after those returned, in the view the splitter
   * chose, or in a buffer of their own.
   */
  tail: Uint8Array | undefined;

  /**
   * The next message's bytes, or `null` at a clean end of stream. The
   * returned view is valid until the next call: decode or copy it first.
   *
   * @throws {FrameError} On a frame larger than `maxFrame`, a message larger
   * than `maxMessage`, or a truncated or inconsistent one.
   */
  async next(
    maxFrame: number = limits().frame,
    maxMessage: number = limits().message,
  ): Promise<Uint8Array | null> {
    this.tail = undefined;
    if (!await this.#fill(HEADER, true)) return null;
    const [len, more] = this.#header(maxFrame);
    if (!more) return await this.#frame(len);
    return await this.#pieces(len, maxFrame, Math.min(maxMessage, limits().message));
  }

  /** Takes a length prefix from the buffer: the length and whether more pieces follow. */
  #header(maxFrame: number): [number, boolean] {
    const b = this.#buf, s = this.#start;
    const word = ((b[s] << 24) | (b[s + 1] << 16) | (b[s + 2] << 8) | b[s + 3]) >>> 0;
    const len = word & 0x7fffffff;
    if (len > maxFrame) {
      throw new FrameError(`Frame of ${len} bytes exceeds the limit of ${maxFrame}`);
    }
    this.#start += HEADER;
    return [len, word >= MORE];
  }

  async #frame(len: number): Promise<Uint8Array> {
    this.owned = false;
    if (this.#end - this.#start < len && len >= LARGE_FRAME) {
      const head = await this.#begin(len, len);
      await this.#read(0, this.#size);
      return this.#done(head);
    }
    await this.#fill(len, false);
    const s = this.#start;
    this.#start += len;
    return this.#buf.subarray(s, s + len);
  }

  /** Reads a message in pieces into one buffer, allocated once. */
  async #pieces(first: number, maxFrame: number, maxMessage: number): Promise<Uint8Array> {
    if (first < TOTAL) throw new FrameError("Malformed first piece: no total length");
    await this.#fill(TOTAL, false);
    const v = new DataView(this.#buf.buffer, this.#buf.byteOffset + this.#start, TOTAL);
    const total = v.getUint32(0) * 2 ** 32 + v.getUint32(4);
    this.#start += TOTAL;
    if (total > maxMessage) {
      throw new FrameError(`Message of ${total} bytes exceeds the limit of ${maxMessage}`);
    }
    if (total < first - TOTAL) throw new FrameError("Malformed message: pieces exceed its length");
    // The head, when split, is taken from the first piece.
    const head = await this.#begin(first - TOTAL, total);
    let at = 0, len = first - TOTAL - (head?.length ?? 0), more = true;
    while (true) {
      if (at + len > this.#size) {
        throw new FrameError("Malformed message: pieces exceed its length");
      }
      await this.#read(at, at + len);
      at += len;
      if (!more) break;
      if (!await this.#fill(HEADER, false)) throw new FrameError("Connection closed mid-frame");
      [len, more] = this.#header(maxFrame);
    }
    if (at !== this.#size) {
      throw new FrameError("Malformed message: pieces fall short of its length");
    }
    return this.#done(head);
  }

  /**
   * Starts a large message of `total` bytes, `available` of them in this
   * frame: shows its head to the splitter when it wants it, and sets where
   * the message goes (its tail, when split).
   *
   * @returns The head, when split: a copy of its own (the read buffer
   * moves on).
   */
  async #begin(available: number, total: number): Promise<Uint8Array | undefined> {
    this.#dest = undefined;
    this.#movable = false;
    this.#size = total;
    if (!this.splitter?.wants(total) || available === 0) return undefined;
    const shown = Math.min(available, SPLIT_HEAD);
    await this.#fill(shown, false);
    const at = this.splitter.head(this.#buf.subarray(this.#start, this.#start + shown), total);
    if (at === undefined) return undefined;
    if (!Number.isInteger(at) || at < 0 || at > shown) {
      throw new RangeError(`A split at ${at} is outside the ${shown} bytes shown`);
    }
    const head = this.#buf.slice(this.#start, this.#start + at);
    this.#start += at;
    this.#size = total - at;
    this.#movable = true;
    return head;
  }

  /**
   * Reads bytes `from` to `to` of the current message (its tail, when
   * split) where it goes: what is buffered, then straight from the stream.
   */
  async #read(from: number, to: number): Promise<void> {
    const have = Math.min(this.#end - this.#start, to - from);
    this.#place(from).set(this.#buf.subarray(this.#start, this.#start + have), from);
    this.#start += have;
    for (let at = from + have; at < to;) {
      const n = await this.#reader.read(this.#place(at).subarray(at, to));
      if (n === null) throw new FrameError("Connection closed mid-frame");
      at += n;
    }
  }

  /**
   * Where the current message goes, its first `done` bytes read: the
   * splitter's view, once it chooses one (what was read is copied over),
   * else a buffer of its own.
   */
  #place(done: number): Uint8Array {
    const into = this.#movable ? this.splitter!.place() : undefined;
    if (into) {
      if (into.length !== this.#size) {
        throw new RangeError(
          `A tail of ${this.#size} bytes was placed in a view of ${into.length}`,
        );
      }
      this.#movable = false;
      if (this.#dest) {
        into.set(this.#dest.subarray(0, done));
        giveBackBuffer(this.#dest);
      }
      this.#dest = into;
    }
    return this.#dest ??= messageBuffer(this.#size);
  }

  /** Ends the current message: its bytes, or its head with its tail in {@link FrameReader.tail}. */
  #done(head: Uint8Array | undefined): Uint8Array {
    const out = this.#dest ?? messageBuffer(this.#size);
    this.#dest = undefined;
    this.#movable = false;
    this.owned = true;
    if (!head) return out;
    this.tail = out;
    return head;
  }

  /**
   * Buffers at least `need` bytes; false at the end of the stream when
   * nothing is buffered and `atBoundary` (a clean end).
   */
  async #fill(need: number, atBoundary: boolean): Promise<boolean> {
    while (this.#end - this.#start < need) {
      this.#room(need);
      const free = this.#buf.length - this.#end;
      const n = await this.#reader.read(this.#buf.subarray(this.#end));
      if (n === null) {
        if (atBoundary && this.#end === this.#start) return false;
        throw new FrameError("Connection closed mid-frame");
      }
      this.#end += n;
      if (n === free && this.#buf.length < STREAM_BUFFER) this.#grow = true;
    }
    return true;
  }

  /** Makes room for `need` bytes from #start and at least one more to read. */
  #room(need: number): void {
    const size = this.#buf.length;
    if (!this.#grow && size - this.#start >= need && this.#end < size) return;
    const avail = this.#end - this.#start;
    let next = size;
    if (this.#grow) next = Math.min(size * 2, Math.max(STREAM_BUFFER, size));
    if (next < need + 1) next = need + 1024;
    this.#grow = false;
    if (next === size && size - avail >= 512) {
      this.#buf.copyWithin(0, this.#start, this.#end);
    } else {
      const grown = new Uint8Array(next);
      grown.set(this.#buf.subarray(this.#start, this.#end));
      this.#buf = grown;
    }
    this.#start = 0;
    this.#end = avail;
  }
}

/** Frames queued together up to this many bytes are written as one. */
const COALESCE = 64 * 1024;

/** Writes `len` as the 4-byte prefix at the start of `frame`. */
export function writeHeader(frame: Uint8Array, len: number): void {
  frame[0] = len >>> 24;
  frame[1] = (len >>> 16) & 0xff;
  frame[2] = (len >>> 8) & 0xff;
  frame[3] = len & 0xff;
}

/** A frame holding `payload`, with its header. */
export function frameOf(payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(HEADER + payload.length);
  writeHeader(out, payload.length);
  out.set(payload, HEADER);
  return out;
}

/**
 * The frames of a message longer than a piece: each piece's prefix (the
 * first with the total length) and its bytes, as views of the parts (no
 * copy).
 */
function piecesOf(parts: Uint8Array[], total: number, piece: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  let part = 0, offset = 0, left = total, first = true;
  while (left > 0) {
    const take = Math.min(left, first ? piece - TOTAL : piece);
    left -= take;
    const head = new Uint8Array(first ? HEADER + TOTAL : HEADER);
    const word = (first ? take + TOTAL : take) + (left > 0 ? MORE : 0);
    writeHeader(head, word >>> 0);
    if (first) {
      const v = new DataView(head.buffer);
      v.setUint32(HEADER, Math.floor(total / 2 ** 32));
      v.setUint32(HEADER + 4, total >>> 0);
    }
    out.push(head);
    for (let need = take; need > 0;) {
      const p = parts[part];
      const n = Math.min(need, p.length - offset);
      if (n > 0) out.push(p.subarray(offset, offset + n));
      need -= n;
      offset += n;
      if (offset === p.length) [part, offset] = [part + 1, 0];
    }
    first = false;
  }
  return out;
}

/** A message whose payload is at most this many bytes is written in place (see {@link FrameWriter.writeWith}). */
const IN_PLACE = 16 * 1024;

/** The writer's first buffer for messages written in place, grown (doubling) up to {@link COALESCE}. */
const STAGE_FIRST = 4 * 1024;

/**
 * Writes frames in order. Frames queued while a write is in flight go out
 * together in one write: many small messages cost one system call. A
 * message longer than a piece is cut into pieces (see the module doc).
 *
 * Small messages are written in place ({@link FrameWriter.writeWith}) into
 * a buffer of the writer's (the stage), one after another, and that buffer
 * is written as it is, then reused: a message costs no allocation of its
 * own (a fresh `ArrayBuffer` costs Deno more than stringifying and encoding
 * a small message together) and no copy to join it to its neighbours.
 */
export class FrameWriter {
  #writer: ByteWriter;
  #queue: Uint8Array[] = [];
  #queued = 0;
  #flushing: Promise<void> | undefined;
  #error: unknown;
  #below: { bytes: number; resolve(): void }[] = [];
  /** The stage: bytes `[0, #sealed)` are queued (or being written), `[#sealed, #staged)` not yet. */
  #stage: Uint8Array | undefined;
  #sealed = 0;
  #staged = 0;

  /** Wraps a writable connection. */
  constructor(writer: ByteWriter) {
    this.#writer = writer;
  }

  /** Bytes queued and not yet written. */
  get queued(): number {
    return this.#queued;
  }

  /**
   * Queues a message: `frame` holds the header's room (its first
   * {@link HEADER} bytes, set here) and the start of the payload, `body`
   * (written from the caller's buffer) the rest. Resolves once written.
   *
   * @throws {RangeError} (rejects) When the message exceeds `limits().message`.
   */
  write(frame: Uint8Array, body?: Uint8Array): Promise<void> {
    if (this.#error !== undefined) return Promise.reject(this.#error);
    const total = frame.length - HEADER + (body?.length ?? 0);
    try {
      checkMessageSize(total);
    } catch (err) {
      return Promise.reject(err);
    }
    const piece = limits().piece;
    // What was written in place before this goes before it.
    this.#seal();
    if (total <= piece) {
      writeHeader(frame, total);
      this.#push(frame);
      // A large body is its own entry, written as it is (see #flush).
      if (body) this.#push(body);
    } else {
      const parts = body ? [frame.subarray(HEADER), body] : [frame.subarray(HEADER)];
      for (const p of piecesOf(parts, total, piece)) this.#push(p);
    }
    this.#flushing ??= this.#flush();
    return this.#flushing;
  }

  /**
   * Queues a message that `fill` writes into `dest` (at least `max` bytes;
   * `fill` returns how many it wrote). A small one is written in place, in
   * the writer's stage (see the class doc); `dest` is valid only during the
   * call. Resolves once written.
   *
   * @throws {RangeError} (rejects) When the message exceeds `limits().message`.
   */
  writeWith(max: number, fill: (dest: Uint8Array) => number): Promise<void> {
    if (this.#error !== undefined) return Promise.reject(this.#error);
    if (max > IN_PLACE || max > limits().piece) {
      const frame = new Uint8Array(HEADER + max);
      return this.write(frame.subarray(0, HEADER + fill(frame.subarray(HEADER))));
    }
    const need = HEADER + max;
    if (!this.#stage || this.#stage.length - this.#staged < need) this.#newStage(need);
    const stage = this.#stage!, at = this.#staged;
    const n = fill(stage.subarray(at + HEADER, at + need));
    try {
      checkMessageSize(n);
    } catch (err) {
      return Promise.reject(err);
    }
    writeHeader(stage.subarray(at, at + HEADER), n);
    this.#staged = at + HEADER + n;
    this.#queued += HEADER + n;
    this.#flushing ??= this.#flush();
    return this.#flushing;
  }

  /** Queues what was written in place and not yet queued, as one entry. */
  #seal(): void {
    if (this.#staged === this.#sealed) return;
    this.#queue.push(this.#stage!.subarray(this.#sealed, this.#staged));
    this.#sealed = this.#staged;
  }

  /**
   * A stage with room for `need` bytes: what the full one holds is queued
   * (it is written from that buffer, which is then left to the collector).
   */
  #newStage(need: number): void {
    this.#seal();
    const size = this.#stage ? Math.min(this.#stage.length * 2, COALESCE) : STAGE_FIRST;
    this.#stage = new Uint8Array(Math.max(size, need));
    this.#sealed = this.#staged = 0;
  }

  #push(bytes: Uint8Array): void {
    this.#queue.push(bytes);
    this.#queued += bytes.length;
  }

  /** Resolves once every queued frame is written (or the writer failed). */
  idle(): Promise<void> {
    return (this.#flushing ?? Promise.resolve()).catch(() => {});
  }

  /**
   * Resolves once at most `bytes` are queued (or the writer failed: the
   * next write says so).
   */
  whenBelow(bytes: number): Promise<void> {
    if (this.#queued <= bytes || this.#error !== undefined) return Promise.resolve();
    return new Promise((resolve) => this.#below.push({ bytes, resolve }));
  }

  #wake(): void {
    if (this.#below.length === 0) return;
    const failed = this.#error !== undefined;
    this.#below = this.#below.filter((w) => {
      if (!failed && this.#queued > w.bytes) return true;
      w.resolve();
      return false;
    });
  }

  /**
   * Writes what is queued; write errors make later writes reject (the read
   * side sees the connection drop).
   */
  async #flush(): Promise<void> {
    // Let the current turn queue more frames before the first write.
    await Promise.resolve();
    try {
      while ((this.#seal(), this.#queue.length > 0)) {
        // Small frames go out together; a large one is written from its own
        // buffer rather than copied into a bigger one.
        let n = 0, bytes = 0;
        while (n < this.#queue.length && (n === 0 || bytes + this.#queue[n].length <= COALESCE)) {
          bytes += this.#queue[n++].length;
        }
        const batch = this.#queue.splice(0, n);
        let chunk = batch[0];
        if (n > 1) {
          chunk = new Uint8Array(bytes);
          let at = 0;
          for (const f of batch) {
            chunk.set(f, at);
            at += f.length;
          }
        }
        await writeAll(this.#writer, chunk);
        this.#queued -= bytes;
        this.#wake();
      }
    } catch (err) {
      this.#error = err;
      this.#queue = [];
      this.#queued = 0;
      throw err;
    } finally {
      // Everything is written (or never will be): the stage is free again.
      this.#sealed = this.#staged = 0;
      this.#flushing = undefined;
      this.#wake();
    }
  }
}

/** Writes every byte, looping over short writes. */
export async function writeAll(w: ByteWriter, data: Uint8Array): Promise<void> {
  let at = 0;
  while (at < data.length) at += await w.write(data.subarray(at));
}
