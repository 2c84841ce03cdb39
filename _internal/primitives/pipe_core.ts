/**
 * A pipe, hosted by the process that created it: two ends, each with the
 * messages sent to it. An end is read where it is: in the host, from its
 * inbox here; elsewhere, the process holding it attaches and the host
 * pushes it every message as it arrives, so receiving and polling there
 * need no round trip.
 *
 * When the process holding an end dies, that end is closed: the other side
 * sees end-of-file instead of waiting for ever (where Python's `recv` would
 * hang while the parent still holds a copy of the dead child's end).
 *
 * @module
 */

import { EOF, type Message, MessageInbox } from "./inbox.ts";
import type { Hosted, Peer } from "../hub/protocol.ts";

interface End {
  inbox: MessageInbox;
  reader: Peer | undefined;
  closed: boolean;
}

/** Two ends; what is sent on one is received on the other. */
export class PipeCore implements Hosted {
  /** The id the object server knows this pipe by. */
  id = "";
  /** Called once both ends are closed: the host stops serving the pipe. */
  onClosed: (() => void) | undefined;
  #ends: [End, End] = [
    { inbox: new MessageInbox(), reader: undefined, closed: false },
    { inbox: new MessageInbox(), reader: undefined, closed: false },
  ];

  /** The inbox of an end read in this process. */
  inbox(end: 0 | 1): MessageInbox {
    return this.#ends[end].inbox;
  }

  call(method: string, args: unknown[], peer: Peer): unknown {
    const end = args[0] as 0 | 1;
    switch (method) {
      case "send":
        return void this.deliver((1 - end) as 0 | 1, { value: args[1] }, true);
      case "sendBytes":
        // Not awaited: the bytes arrived in their own frame and are not reused.
        return void this.deliver((1 - end) as 0 | 1, { bytes: args[1] as Uint8Array }, true);
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
    if (end.reader) return push(end.reader, this.id, to, m, transfer);
    if (m.bytes) end.inbox.push(owned ? m : { bytes: m.bytes.slice() });
    // Both ends may be here: the reader gets a copy, or the moved buffers.
    else end.inbox.push({ value: owned ? m.value : structuredClone(m.value, { transfer }) });
  }

  #attach(e: 0 | 1, peer: Peer): void {
    const end = this.#ends[e];
    end.reader = peer;
    // What arrived before the reader did goes to it first, in order.
    for (let m = end.inbox.peek(); m !== undefined && m !== EOF; m = end.inbox.peek()) {
      end.inbox.take();
      push(peer, this.id, e, m);
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
    const other = this.#ends[1 - e];
    other.inbox.end();
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
  transfer?: Transferable[],
): Promise<void> | void {
  if (m.bytes) return peer.pushBytes(id, "bytes", [end], m.bytes);
  peer.push(id, "msg", [end, m.value], transfer);
}
