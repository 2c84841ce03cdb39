/**
 * A worker thread's link to its pool: a message port of its own, moved to
 * the thread with its start (`TRANSFER`), instead of a pipe through the
 * hub. Both ends are a {@link PortLink}: the engine's (its `WorkerConn`)
 * and the worker's (its `Conn`). The hub's dispatch, the socket and the
 * pipe's windows are gone from both threads. Measured on the 2-core
 * machine against the pipe (`bench/ab.ts`): `map` of 20k no-op tasks on 2
 * workers 1.23x and 1.32x, `imap` 1.17-1.46x, a 1M-item `map` 1.24-1.46x;
 * in one run of bench/pool_throughput.ts, that `map` reached 0.77x of its
 * floor (0.66x over the pipe). Details: `docs/design.md` §6.
 *
 * On the port, a value that JSON carries exactly goes as JSON text (a
 * string is copied as it is; V8's serializer took about 5x as long for a
 * batch of 64 tasks: `hub/peers.ts`), anything else by structured clone, which is what the
 * pipe's serializer does for it too. Either way it is copied at the call:
 * a later change of the sender's does not go with it.
 *
 * The end: a link that is closed posts {@link END} first, then closes
 * its port (Deno tells the other side of a port closed in another thread
 * only where that side is a `node:worker_threads` port). A thread that
 * exits closes its ports with it: the engine's end hears `close`, after
 * what the worker posted. A killed thread may never exit (stuck in a
 * synchronous loop): the pool closes its end itself (`pool.ts`).
 *
 * @module
 */

import { EOFError } from "../base/errors.ts";
import { surelyCloneable } from "../wire/codec.ts";
import { SEND_TAKEN } from "../base/symbols.ts";
import { CLOSED, PortChannel, SKIP } from "../transport/channel.ts";

/** Posted by an end that closes: no message is ever `null` otherwise (see the module doc). */
const END = null;

/** A port, and `unref`, which a `node:worker_threads` port has. */
type Port = MessagePort & { unref?(): void };

/**
 * What arrives: JSON text parsed; a string that is not JSON passed on as
 * it came, which the protocol's check refuses (`isFromWorker`).
 */
function parsed(data: unknown): unknown {
  if (typeof data !== "string") return data;
  try {
    return JSON.parse(data);
  } catch {
    return data;
  }
}

/** One end of a worker's port: the transport's {@link PortChannel}, with this module's encoding and end. */
export class PortLink {
  #port: Port;
  #channel: PortChannel;
  #closed = false;

  /**
   * Takes over `port`. `unref`: it does not keep the process alive (the
   * engine's end: an idle pool never does).
   */
  constructor(port: Port, unref = false) {
    this.#port = port;
    const channel: PortChannel = new PortChannel(
      port,
      (data): unknown => data === END ? (channel.end(), SKIP) : parsed(data),
    );
    this.#channel = channel;
    port.addEventListener("close", () => channel.end());
    port.start();
    if (unref) port.unref?.();
  }

  /** Posts a copy of `value` taken now; rejects with `DataCloneError` where it cannot be cloned. */
  send(value: unknown): Promise<void> {
    if (this.#closed) return Promise.reject(new EOFError("Cannot send: the link is closed"));
    return this.#channel.send(surelyCloneable(value) ? JSON.stringify(value) : value);
  }

  /** The same as {@link PortLink.send}: what was taken already is copied once either way. */
  [SEND_TAKEN](value: unknown): Promise<void> {
    return this.send(value);
  }

  /** The next message; rejects with `EOFError` once the other end closed and all it sent was received. */
  async recv(): Promise<unknown> {
    const m = await this.#channel.recv();
    if (m === CLOSED) throw new EOFError("Cannot receive: the other end is closed");
    return m;
  }

  /** Closes this end: the other end receives what was sent, then its end. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.#port.postMessage(END);
      this.#port.close();
    } catch { /* the other side is gone */ }
    this.#channel.close();
  }
}

let channelClass: typeof MessageChannel | undefined;

/**
 * A pair of ports for a worker thread: the first stays, the second moves
 * to the thread. `node:worker_threads` ports, which can be unref'd; its
 * module is loaded with the first pool of threads (the threads' own start
 * loads it too).
 */
export async function portPair(): Promise<MessageChannel> {
  channelClass ??= (await import("node:worker_threads")).MessageChannel as never;
  return new channelClass!();
}
