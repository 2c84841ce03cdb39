// A raw, authenticated client of a hub, for tests that speak the object
// protocol by hand (malformed frames, fuzzing, sessions): it writes frames
// as given and reads whatever comes back until the host hangs up.
import type { Address } from "../_internal/transport/address.ts";
import { type AuthedConn, connectAuthed } from "../_internal/transport/sockets.ts";
import { encodeSync, loadV8 } from "../_internal/wire/codec.ts";
import { frameOf, writeAll } from "../_internal/wire/framing.ts";

/** A raw connection: frames out, and a promise of its end. */
export interface RawClient extends AsyncDisposable {
  /** Encodes `msg` and writes it as one frame. */
  send(msg: unknown): Promise<void>;
  /** Writes `bytes` as they are (a frame header is not added). */
  write(bytes: Uint8Array): Promise<void>;
  /** The values received so far (replies, pushes). */
  received: unknown[];
  /** Resolves once the host has closed the connection (or it broke). */
  closed: Promise<void>;
  /** Whether {@link RawClient.closed} has resolved. */
  isClosed(): boolean;
  /** Resolves once a value received passes `test`, or the connection is closed. */
  until(test: (v: unknown) => boolean): Promise<void>;
  /** Closes the connection. */
  close(): void;
}

/** Connects, authenticates and reads in the background. */
export async function rawClient(address: Address, authkey: Uint8Array): Promise<RawClient> {
  await loadV8();
  const authed: AuthedConn = await connectAuthed(address, authkey, 10_000);
  const received: unknown[] = [];
  const waiters = new Set<{ test(v: unknown): boolean; resolve(): void }>();
  let done = false;
  const closed = (async () => {
    try {
      const { decode } = await import("../_internal/wire/codec.ts");
      while (true) {
        const frame = await authed.reader.next();
        if (frame === null) break;
        try {
          const v = decode(frame);
          received.push(v);
          for (const w of waiters) if (w.test(v)) (waiters.delete(w), w.resolve());
        } catch { /* a test only counts what it can read */ }
      }
    } catch { /* broken: as good as closed */ }
    done = true;
    for (const w of waiters) w.resolve();
    waiters.clear();
  })();
  let closedHere = false;
  const close = () => {
    if (closedHere) return;
    closedHere = true;
    try {
      authed.conn.close();
    } catch { /* already closed */ }
  };
  return {
    send: (msg) => authed.writer.write(frameOf(encodeSync(msg)!)).catch(() => {}),
    write: (bytes) => writeAll(authed.conn, bytes).catch(() => {}),
    received,
    closed,
    isClosed: () => done,
    until: (test) =>
      done || received.some(test)
        ? Promise.resolve()
        : new Promise((resolve) => waiters.add({ test, resolve })),
    close,
    async [Symbol.asyncDispose]() {
      close();
      await closed;
    },
  };
}
