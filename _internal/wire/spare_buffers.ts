/**
 * Large receive buffers, used again once their message is done with.
 *
 * A large message is read into a buffer of its own, which `recvBytes()`
 * hands to the caller to keep. A fresh buffer is fresh memory: its pages
 * are supplied and zeroed by the kernel as the socket's bytes are first
 * copied in (page clearing and faults were a fifth of a bare-socket
 * probe's samples under `perf`), and the garbage collector frees it only
 * much later. A bare socket read into a fresh buffer per 1 MiB message
 * moved about 1 GB/s here; into one buffer reused, about 3.9 GB/s.
 * Python's `recv_bytes` does not pay that, since its allocator reuses a
 * message's memory as soon as the last reference to it goes.
 *
 * Here the library knows one such moment: `recvBytesInto()` copies the
 * message into the caller's buffer, and nothing else holds the one it was
 * read into. That buffer is kept (a few, of bounded size) and the next
 * message of exactly its size is read into it.
 *
 * Only buffers this module allocated are taken back, and each once: a
 * buffer a sender or a receiver may still hold never comes back here.
 *
 * @module
 */

/** Buffers from this size up are taken back. */
export const SPARE_FROM = 256 * 1024;

/** At most this many bytes of spares are kept, in at most this many buffers. */
const KEEP_BYTES = 8 << 20;
const KEEP_COUNT = 8;

/** Large buffers allocated here and handed out, not yet given back. */
const out = new WeakSet<ArrayBuffer>();
/** Buffers given back, newest last. */
const spares: ArrayBuffer[] = [];
let kept = 0;

/**
 * A buffer of `n` bytes to read a message into: a spare of exactly that
 * size when there is one (holding an earlier message's bytes, to be
 * overwritten), else a new one, zeroed.
 *
 * @param n Its length in bytes.
 * @returns A buffer whose `buffer` is `n` bytes long, of its own.
 */
export function messageBuffer(n: number): Uint8Array {
  if (n < SPARE_FROM) return new Uint8Array(n);
  for (let i = spares.length - 1; i >= 0; i--) {
    if (spares[i].byteLength !== n) continue;
    const ab = spares.splice(i, 1)[0];
    kept -= n;
    out.add(ab);
    return new Uint8Array(ab);
  }
  const fresh = new Uint8Array(n);
  out.add(fresh.buffer);
  return fresh;
}

/**
 * A copy of `bytes` in a buffer of its own (see {@link messageBuffer}).
 *
 * @param bytes What to copy.
 * @returns The copy.
 */
export function copyToMessageBuffer(bytes: Uint8Array): Uint8Array {
  const copy = messageBuffer(bytes.length);
  copy.set(bytes);
  return copy;
}

/**
 * Takes back the buffer under `bytes`, whose message nothing holds any
 * more. Anything not handed out by {@link messageBuffer}, or given back
 * already, is left alone.
 *
 * @param bytes A view of the message's buffer.
 */
export function giveBackBuffer(bytes: Uint8Array): void {
  const ab = bytes.buffer;
  if (!(ab instanceof ArrayBuffer) || !out.delete(ab)) return;
  if (ab.byteLength > KEEP_BYTES) return;
  while (spares.length >= KEEP_COUNT || (spares.length > 0 && kept + ab.byteLength > KEEP_BYTES)) {
    kept -= spares.shift()!.byteLength;
  }
  spares.push(ab);
  kept += ab.byteLength;
}

/**
 * The sizes of the spares kept, oldest first (for tests).
 *
 * @returns Their lengths in bytes.
 */
export function spareBuffers(): number[] {
  return spares.map((ab) => ab.byteLength);
}
