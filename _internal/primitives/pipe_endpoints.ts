/**
 * The transports under a `Connection`: an end of a pipe hosted here, an end
 * of a pipe hosted by another process, and a Listener/Client socket. Each
 * sends, and fills the inbox the connection reads.
 *
 * @module
 */

import { CLOSED, type SocketChannel } from "../transport/channel.ts";
import type { Descriptor } from "../hub/handles.ts";
import { type Message, MessageInbox } from "./inbox.ts";
import type { LocalRef } from "../hub/refs.ts";
import type { ObjectRef } from "../hub/protocol.ts";
import type { PipeCore } from "./pipe_core.ts";
import { BytesMessage, surelyCloneable } from "../wire/codec.ts";

export type { Message };

/** The transport of a connection: where it sends, and the inbox it reads. */
export interface Endpoint {
  inbox: MessageInbox;
  ready: Promise<unknown>;
  send(value: unknown, transfer?: Transferable[]): Promise<void>;
  sendBytes(bytes: Uint8Array): Promise<void>;
  close(): void;
  describe?(): Promise<Descriptor>;
}

/** An end of a pipe hosted in this process. */
export function localEnd(ref: LocalRef, core: PipeCore, end: 0 | 1): Endpoint {
  return {
    inbox: core.inbox(end),
    ready: Promise.resolve(),
    send: (value, transfer) => {
      // What could not cross a process fails here, wherever the reader is.
      if (!surelyCloneable(value)) structuredClone(value);
      core.deliver((1 - end) as 0 | 1, { value }, false, transfer);
      return Promise.resolve();
    },
    sendBytes: async (bytes) => {
      await core.deliver((1 - end) as 0 | 1, { bytes });
    },
    close: () => core.closeLocal(end),
    describe: async () => ({
      kind: "pipe",
      // Set by the connection, whose module revives pipe ends.
      module: "",
      address: await ref.address(),
      id: ref.id,
      extra: { end },
    }),
  };
}

/** An end of a pipe hosted by another process: the host pushes it what arrives. */
export function remoteEnd(ref: ObjectRef, end: 0 | 1, d: Descriptor): Endpoint {
  const inbox = new MessageInbox();
  ref.onPush((event, args) => {
    if (event === "disconnect") return inbox.end();
    if (args[0] !== end) return;
    if (event === "msg") inbox.push({ value: args[1] });
    else if (event === "bytes") inbox.push({ bytes: args[1] as Uint8Array });
    else if (event === "eof") inbox.end();
  });
  return {
    inbox,
    ready: ref.call("attach", [end]),
    send: (value) => ref.post("send", [end, value]),
    sendBytes: (bytes) => ref.postBytes("sendBytes", [end], bytes),
    close: () => ref.send("close", [end]),
    describe: () => Promise.resolve(d),
  };
}

const PIPES = new WeakMap<LocalRef, PipeCore>();

/** Remembers the pipe behind a reference, for ends revived in its host. */
export function hostPipe(ref: LocalRef, core: PipeCore): void {
  PIPES.set(ref, core);
}

/** The pipe a reference in this process hosts. */
export function hostedPipe(ref: LocalRef): PipeCore {
  return PIPES.get(ref)!;
}

/** A connection over its own authenticated socket (Listener/Client). */
export function socketEnd(channel: SocketChannel): Endpoint {
  const inbox = new MessageInbox();
  (async () => {
    while (true) {
      const msg = await channel.recv();
      if (msg === CLOSED) break;
      if (msg instanceof BytesMessage) inbox.push({ bytes: msg.bytes });
      else inbox.push({ value: msg });
    }
    inbox.end();
  })();
  return {
    inbox,
    ready: Promise.resolve(),
    send: (value) => channel.post(value),
    // Written from the caller's buffer: resolved only once it is written.
    sendBytes: (bytes) => channel.send(new BytesMessage(null, bytes)),
    close: () => channel.close(),
  };
}
