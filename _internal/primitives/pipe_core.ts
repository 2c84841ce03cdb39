/**
 * A pipe, hosted by the process that created it: two ends, each with the
 * messages sent to it. An end is read where it is: in the host, from its
 * inbox here; elsewhere, the process holding it attaches and the host
 * pushes it every message as it arrives, so receiving and polling there
 * need no round trip.
 *
 * Flow control, as a pipe's buffer bounds Python's: each end counts the
 * bytes delivered to it and not yet received by its reader (a reader
 * elsewhere says what it received, in deferred "consumed" calls); while
 * that passes `limits().pipeWindow`, senders wait ("room", or
 * {@link PipeCore.room} in the host). A reader that does not read holds
 * back its senders, not its memory.
 *
 * When the process holding an end dies, that end is closed: the other side
 * sees end-of-file instead of waiting for ever (where Python's `recv` would
 * hang while the parent still holds a copy of the dead child's end).
 *
 * @module
 */

import { EOF, type Message, MessageInbox } from "./inbox.ts";
import type { Hosted, Peer } from "../hub/protocol.ts";
import { argArray, argEnd } from "../hub/args.ts";
import { sizeOf } from "../wire/measure.ts";
import { limits } from "../wire/limits.ts";
import { copyToMessageBuffer } from "../wire/spare_buffers.ts";
import { onAbort } from "../base/async.ts";

interface End {
  inbox: MessageInbox;
  reader: Peer | undefined;
  closed: boolean;
  /** Bytes delivered to this end and not yet received by its reader. */
  unread: number;
  /** Senders waiting for {@link End.unread} to fall. */
  waiters: Set<() => void>;
}

function newEnd(): End {
  return {
    inbox: new MessageInbox(),
    reader: undefined,
    closed: false,
    unread: 0,
    waiters: new Set(),
  };
}

/** Two ends; what is sent on one is received on the other. */
export class PipeCore implements Hosted {
  /** The id the object server knows this pipe by. */
  id = "";
  /** Called once both ends are closed: the host stops serving the pipe. */
  onClosed: (() => void) | undefined;
  #ends: [End, End] = [newEnd(), newEnd()];

  constructor() {
    for (const e of [0, 1] as const) {
      this.#ends[e].inbox.onTake = (m) => this.consumed(e, m.size ?? 0);
    }
  }

  /** The inbox of an end read in this process. */
  inbox(end: 0 | 1): MessageInbox {
    return this.#ends[end].inbox;
  }

  /**
   * The role a sandboxed peer needs: the end it acts as (a peer given end 1
   * cannot send as end 0); "consumed" reports only on the ends it reads.
   */
  roleOf(method: string, args: unknown[]): string | undefined {
    return method === "consumed" ? undefined : `end:${args[0]}`;
  }

  /**
   * Where the bytes a "sendBytes" call delivers go: the buffer a reader of
   * the other end, here, offered while waiting (see `MessageInbox.place`).
   */
  place(method: string, args: unknown[], length: number): Uint8Array | undefined {
    if (method !== "sendBytes" || (args[0] !== 0 && args[0] !== 1)) return undefined;
    const to = this.#ends[1 - args[0]];
    return to.closed || to.reader ? undefined : to.inbox.place(length);
  }

  call(method: string, args: unknown[], peer: Peer, signal: AbortSignal): unknown {
    if (method === "consumed") return this.#consumedBy(peer, argArray(args, 0, method));
    const end = argEnd(args, 0, method);
    const other = (1 - end) as 0 | 1;
    switch (method) {
      case "send":
        return void this.deliver(other, { value: args[1] }, true);
      case "sendBytes":
        if (!(args[1] instanceof Uint8Array)) throw new TypeError("Cannot send bytes: no bytes");
        // Not awaited: the bytes arrived in their own frame and are not reused.
        return void this.deliver(other, { bytes: args[1] }, true);
      case "room":
        return this.room(other, signal);
      case "attach":
        return this.#attach(end, peer);
      case "close":
        // The process that took this end is done with it.
        if (this.#ends[end].reader === peer) this.#ends[end].reader = undefined;
        return this.close(end);
    }
    throw new TypeError(`Pipe has no method '${method}'`);
  }

  /**
   * Hands a message to an end: to its reader's process (resolving once
   * bytes are written there), or to its inbox here (as a copy of the bytes:
   * the sender may reuse its buffer).
   */
  deliver(
    to: 0 | 1,
    m: Message,
    owned = false,
    transfer?: Transferable[],
  ): Promise<void> | void {
    const end = this.#ends[to];
    if (end.closed) return;
    const size = m.bytes ? m.bytes.length : sizeOf(m.value);
    end.unread += size;
    if (end.reader) return push(end.reader, this.id, to, m, size, transfer);
    if (m.bytes) end.inbox.push({ bytes: owned ? m.bytes : copyToMessageBuffer(m.bytes), size });
    // Both ends may be here: the reader gets a copy, or the moved buffers.
    else {
      end.inbox.push({ value: owned ? m.value : structuredClone(m.value, { transfer }), size });
    }
  }

  /** Whether an end takes more now: what waits for its reader is within the window. */
  hasRoom(to: 0 | 1): boolean {
    const end = this.#ends[to];
    return end.closed || end.unread <= limits().pipeWindow;
  }

  /** Resolves once an end takes more ({@link PipeCore.hasRoom}), or is closed. */
  room(to: 0 | 1, signal?: AbortSignal): Promise<void> | void {
    if (this.hasRoom(to)) return;
    const end = this.#ends[to];
    return new Promise<void>((resolve, reject) => {
      const off = onAbort(signal, (reason) => {
        end.waiters.delete(wake);
        reject(reason);
      });
      const wake = () => {
        off();
        resolve();
      };
      end.waiters.add(wake);
    });
  }

  /** The reader of an end received messages of `bytes` in all. */
  consumed(e: 0 | 1, bytes: number): void {
    const end = this.#ends[e];
    end.unread = Math.max(0, end.unread - bytes);
    if (end.waiters.size > 0 && this.hasRoom(e)) this.#wake(end);
  }

  #wake(end: End): void {
    const waiters = [...end.waiters];
    end.waiters.clear();
    for (const w of waiters) w();
  }

  /** A reader elsewhere received these: `[end, bytes]` pairs. */
  #consumedBy(peer: Peer, pairs: unknown[]): void {
    for (const pair of pairs) {
      if (!Array.isArray(pair) || (pair[0] !== 0 && pair[0] !== 1) || typeof pair[1] !== "number") {
        throw new TypeError("Cannot call 'consumed': each item must be [end, bytes]");
      }
      if (this.#ends[pair[0]].reader === peer) this.consumed(pair[0], pair[1]);
    }
  }

  #attach(e: 0 | 1, peer: Peer): void {
    const end = this.#ends[e];
    end.reader = peer;
    // What arrived before the reader did goes to it first, in order; it
    // still counts as unread until the reader says it received it.
    for (let m = end.inbox.peek(); m !== undefined && m !== EOF; m = end.inbox.peek()) {
      end.inbox.take(false);
      push(peer, this.id, e, m, m.size ?? 0);
    }
    if (end.inbox.ended) peer.push(this.id, "eof", [e]);
  }

  /**
   * The host's own handle of an end is closed. If another process holds the
   * end, it stays open for that process: Python programs close their copy of
   * the child's end right after starting the child.
   */
  closeLocal(e: 0 | 1): void {
    if (!this.#ends[e].reader) this.close(e);
  }

  /** Closes an end: the other end reads what is left, then end-of-file. */
  close(e: 0 | 1): void {
    const end = this.#ends[e];
    if (end.closed) return;
    end.closed = true;
    end.inbox.end();
    this.#wake(end);
    const other = this.#ends[1 - e];
    other.inbox.end();
    // Nobody sends to it any more: senders waiting on it go on (and fail).
    this.#wake(other);
    if (other.reader) other.reader.push(this.id, "eof", [1 - e]);
    if (other.closed) this.onClosed?.();
  }

  /** The process holding an end is gone: that end is closed. */
  detach(peer: Peer): void {
    for (const e of [0, 1] as const) {
      if (this.#ends[e].reader === peer) {
        this.#ends[e].reader = undefined;
        this.close(e);
      }
    }
  }
}

function push(
  peer: Peer,
  id: string,
  end: 0 | 1,
  m: Message,
  size: number,
  transfer?: Transferable[],
): Promise<void> | void {
  if (m.bytes) return peer.pushBytes(id, "bytes", [end], m.bytes);
  peer.push(id, "msg", [end, m.value, size], transfer, m.json);
}
