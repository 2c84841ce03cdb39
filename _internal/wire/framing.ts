/**
 * Length-prefixed frames on a byte stream: a 4-byte big-endian length, then
 * that many bytes. Lengths are checked against a bound before anything is
 * allocated, so a malformed or hostile peer costs at most one closed
 * connection.
 *
 * @module
 */

/** Largest frame accepted once a connection is authenticated: 1 GiB. */
export const MAX_FRAME = 1 << 30;

/** Bytes of the length prefix. */
export const HEADER = 4;

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

/** Reads frames from a stream. */
export class FrameReader {
  #reader: ByteReader;
  #buf = new Uint8Array(64 * 1024);
  #start = 0;
  #end = 0;

  /** Wraps a readable connection. */
  constructor(reader: ByteReader) {
    this.#reader = reader;
  }

  /**
   * The next frame's bytes, or `null` at a clean end of stream. The returned
   * view is valid until the next call: decode or copy it first.
   *
   * @throws {FrameError} On a frame larger than `max` or a truncated frame.
   */
  async next(max: number = MAX_FRAME): Promise<Uint8Array | null> {
    while (true) {
      const avail = this.#end - this.#start;
      if (avail >= HEADER) {
        const b = this.#buf, s = this.#start;
        const len = ((b[s] << 24) | (b[s + 1] << 16) | (b[s + 2] << 8) | b[s + 3]) >>> 0;
        if (len > max) {
          throw new FrameError(
            `Frame of ${len} bytes exceeds the limit of ${max}`,
          );
        }
        if (avail >= HEADER + len) {
          this.#start += HEADER + len;
          this.owned = false;
          return b.subarray(s + HEADER, s + HEADER + len);
        }
        if (len >= LARGE_FRAME) return await this.#readLarge(len);
        this.#reserve(HEADER + len);
      } else {
        this.#reserve(HEADER);
      }
      const n = await this.#reader.read(this.#buf.subarray(this.#end));
      if (n === null) {
        if (this.#end > this.#start) {
          throw new FrameError("Connection closed mid-frame");
        }
        return null;
      }
      this.#end += n;
    }
  }

  /**
   * Whether the last frame returned is a buffer of its own (a large frame,
   * read straight into it), which the caller may keep without copying.
   */
  owned = false;

  /** Reads a large frame into a buffer of its own: one copy, not two. */
  async #readLarge(len: number): Promise<Uint8Array> {
    const out = new Uint8Array(len);
    let have = this.#end - this.#start - HEADER;
    out.set(this.#buf.subarray(this.#start + HEADER, this.#end));
    this.#start = this.#end = 0;
    while (have < len) {
      const n = await this.#reader.read(out.subarray(have));
      if (n === null) throw new FrameError("Connection closed mid-frame");
      have += n;
    }
    this.owned = true;
    return out;
  }

  /** Makes room for `need` bytes from #start, compacting or growing. */
  #reserve(need: number): void {
    if (
      this.#buf.length - this.#start >= need && this.#end < this.#buf.length
    ) return;
    const avail = this.#end - this.#start;
    if (this.#buf.length >= need && this.#buf.length - avail >= 4096) {
      this.#buf.copyWithin(0, this.#start, this.#end);
    } else {
      const grown = new Uint8Array(Math.max(need + 4096, this.#buf.length * 2));
      grown.set(this.#buf.subarray(this.#start, this.#end));
      this.#buf = grown;
    }
    this.#start = 0;
    this.#end = avail;
  }
}

/** Frames from this size up are read into a buffer of their own. */
const LARGE_FRAME = 256 * 1024;

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
 * Writes frames in order. Frames queued while a write is in flight go out
 * together in one write: many small messages cost one system call.
 */
export class FrameWriter {
  #writer: ByteWriter;
  #queue: Uint8Array[] = [];
  #queued = 0;
  #flushing: Promise<void> | undefined;
  #error: unknown;

  /** Wraps a writable connection. */
  constructor(writer: ByteWriter) {
    this.#writer = writer;
  }

  /**
   * Queues a complete frame (header included) and resolves once it is
   * written.
   */
  write(frame: Uint8Array, body?: Uint8Array): Promise<void> {
    if (this.#error !== undefined) return Promise.reject(this.#error);
    this.#queue.push(frame);
    this.#queued += frame.length;
    if (body) {
      // A large body is its own entry, written as it is (see #flush).
      this.#queue.push(body);
      this.#queued += body.length;
    }
    this.#flushing ??= this.#flush();
    return this.#flushing;
  }

  /** Resolves once every queued frame is written (or the writer failed). */
  idle(): Promise<void> {
    return (this.#flushing ?? Promise.resolve()).catch(() => {});
  }

  /**
   * Queues a frame; write errors make later writes reject (the read side
   * sees the connection drop).
   */
  async #flush(): Promise<void> {
    // Let the current turn queue more frames before the first write.
    await Promise.resolve();
    try {
      while (this.#queue.length > 0) {
        // Small frames go out together; a large one is written from its own
        // buffer rather than copied into a bigger one.
        let n = 0, bytes = 0;
        while (n < this.#queue.length && (n === 0 || bytes + this.#queue[n].length <= COALESCE)) {
          bytes += this.#queue[n++].length;
        }
        const batch = this.#queue.splice(0, n);
        this.#queued -= bytes;
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
      }
    } catch (err) {
      this.#error = err;
      this.#queue = [];
      throw err;
    } finally {
      this.#flushing = undefined;
    }
  }
}

/** Writes every byte, looping over short writes. */
export async function writeAll(w: ByteWriter, data: Uint8Array): Promise<void> {
  let at = 0;
  while (at < data.length) at += await w.write(data.subarray(at));
}
