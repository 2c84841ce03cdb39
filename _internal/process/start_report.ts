/**
 * How a subprocess child started cold says that it runs its target (or
 * why it cannot) without a connection of its own: on its stderr, which its
 * parent reads anyway (it forwards it, keeping a tail for errors).
 *
 * The parent gives the child, on its stdin, a random nonce with the task;
 * the child writes `\0#MP-<nonce>#` then `S` (started), or `F`, a 4-byte
 * big-endian length and that many bytes of error data in the library's
 * encoding (failed: decoded as a launch channel's message is, its depth
 * bounded and a thrown value of any cloneable kind kept). The
 * parent's {@link StartScanner} takes that report out of the stream and
 * forwards everything around it unchanged; without the nonce, which no
 * other process sees, nothing else on the stream is taken for a report.
 *
 * A report is written in one call, before the target runs: a started one
 * is 50 bytes, under the size the kernel writes into a pipe in one piece.
 *
 * @module
 */

const encoder = new TextEncoder();
const STARTED = 0x53; // "S"
const FAILED = 0x46; // "F"
/** The longest failure report read; a longer one counts as malformed. */
const MAX_FAILURE = 1 << 20;

/** What a child reported: started, failed (with why), or nothing readable. */
export type StartReport =
  | { started: true }
  | { started: false; failure: Uint8Array }
  | { started: false; failure?: undefined; malformed: boolean };

/** A fresh nonce for one child's report. */
export function newStartNonce(): string {
  const b = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
}

function prefixOf(nonce: string): Uint8Array {
  return encoder.encode(`\0#MP-${nonce}#`);
}

function writeAll(bytes: Uint8Array): void {
  for (let at = 0; at < bytes.length;) at += Deno.stderr.writeSync(bytes.subarray(at));
}

/** The child's side: it runs its target (written before the target runs). */
export function reportStarted(nonce: string): void {
  const prefix = prefixOf(nonce);
  const out = new Uint8Array(prefix.length + 1);
  out.set(prefix);
  out[prefix.length] = STARTED;
  writeAll(out);
}

/** The child's side: it cannot run its target, and why (its error data, encoded). */
export function reportFailed(nonce: string, body: Uint8Array): void {
  const prefix = prefixOf(nonce);
  const out = new Uint8Array(prefix.length + 5 + body.length);
  out.set(prefix);
  out[prefix.length] = FAILED;
  new DataView(out.buffer).setUint32(prefix.length + 1, body.length);
  out.set(body, prefix.length + 5);
  writeAll(out);
}

function indexOf(data: Uint8Array, needle: Uint8Array): number {
  const first = needle[0];
  for (
    let i = data.indexOf(first);
    i >= 0 && i <= data.length - needle.length;
    i = data.indexOf(first, i + 1)
  ) {
    let j = 1;
    while (j < needle.length && data[i + j] === needle[j]) j++;
    if (j === needle.length) return i;
  }
  return -1;
}

/** How many bytes at the end of `data` begin `needle` (less than all of it). */
function partialTail(data: Uint8Array, needle: Uint8Array): number {
  for (let n = Math.min(needle.length - 1, data.length); n > 0; n--) {
    let j = 0;
    while (j < n && data[data.length - n + j] === needle[j]) j++;
    if (j === n) return n;
  }
  return 0;
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  if (a.length === 0) return b;
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

/**
 * The parent's side: takes a child's report out of its stderr, chunk by
 * chunk (a report may arrive cut anywhere), and resolves {@link report}
 * with it, or with nothing at the stream's end.
 */
export class StartScanner {
  /** The child's report; `{ started: false }` when the stream ended without one. */
  readonly report: Promise<StartReport>;
  #resolve!: (r: StartReport) => void;
  #prefix: Uint8Array;
  /** Bytes held back: maybe a report's beginning, or a report being read. */
  #held: Uint8Array = new Uint8Array(0);
  #done = false;

  constructor(nonce: string) {
    this.#prefix = prefixOf(nonce);
    this.report = new Promise((resolve) => (this.#resolve = resolve));
  }

  /** Takes a chunk of the stream; returns what to forward of what was taken so far. */
  scan(chunk: Uint8Array): Uint8Array {
    if (this.#done) return chunk;
    const data = concat(this.#held, chunk);
    const at = indexOf(data, this.#prefix);
    if (at < 0) {
      const keep = partialTail(data, this.#prefix);
      this.#held = data.slice(data.length - keep);
      return data.subarray(0, data.length - keep);
    }
    const kindAt = at + this.#prefix.length;
    if (data.length <= kindAt) return this.#hold(data, at);
    if (data[kindAt] === STARTED) {
      return this.#finish({ started: true }, data, at, kindAt + 1);
    }
    if (data[kindAt] !== FAILED) {
      return this.#finish({ started: false, malformed: true }, data, at, kindAt + 1);
    }
    if (data.length < kindAt + 5) return this.#hold(data, at);
    const len = new DataView(data.buffer, data.byteOffset).getUint32(kindAt + 1);
    if (len > MAX_FAILURE) {
      return this.#finish({ started: false, malformed: true }, data, at, kindAt + 5);
    }
    const end = kindAt + 5 + len;
    if (data.length < end) return this.#hold(data, at);
    return this.#finish({ started: false, failure: data.slice(kindAt + 5, end) }, data, at, end);
  }

  /** The stream ended: returns what was held back, to forward. */
  end(): Uint8Array {
    const held = this.#held;
    this.#held = new Uint8Array(0);
    if (!this.#done) {
      this.#done = true;
      this.#resolve({ started: false, malformed: false });
    }
    return held;
  }

  #hold(data: Uint8Array, at: number): Uint8Array {
    this.#held = data.slice(at);
    return data.subarray(0, at);
  }

  #finish(report: StartReport, data: Uint8Array, from: number, to: number): Uint8Array {
    this.#done = true;
    this.#held = new Uint8Array(0);
    this.#resolve(report);
    return concat(data.subarray(0, from), data.subarray(to));
  }
}
