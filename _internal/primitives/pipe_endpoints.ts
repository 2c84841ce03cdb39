/**
 * The transports under a `Connection`: an end of a pipe hosted here, an end
 * of a pipe hosted by another process, and a Listener/Client socket. Each
 * sends, and fills the inbox the connection reads.
 *
 * @module
 */

import type { SocketChannel } from "../transport/channel.ts";
import { CLOSED } from "../base/symbols.ts";
import { type Descriptor, type PackContext, valueNow } from "../hub/handles.ts";
import { type Message, MessageInbox } from "./inbox.ts";
import type { LocalRef } from "../hub/refs.ts";
import type { ObjectRef } from "../hub/protocol.ts";
import type { PipeCore } from "./pipe_core.ts";
import { BytesMessage, surelyCloneable } from "../wire/codec.ts";
import { sizeOf } from "../wire/measure.ts";
import { FlowGate } from "../hub/flow.ts";
import { limits } from "../wire/limits.ts";

export type { Message };

/** The transport of a connection: where it sends, and the inbox it reads. */
export interface Endpoint {
  inbox: MessageInbox;
  ready: Promise<unknown>;
  /** Sends `value`: taken at the call, unless `taken` says the caller took it (a copy of its own). */
  send(value: unknown, transfer?: Transferable[], taken?: boolean): Promise<void>;
  sendBytes(bytes: Uint8Array): Promise<void>;
  close(): void;
  describe?(ctx?: PackContext): Promise<Descriptor>;
}

/** What a gate waits with: its sends run in order, each once there is room. */
const WAIT = { timeout: null, onTimeout: () => new Error("unreachable") } as const;

/**
 * An end of a pipe hosted in this process. A send waits, in order, while
 * the other end holds more than the window unread ({@link PipeCore.room}).
 */
export function localEnd(ref: LocalRef, core: PipeCore, end: 0 | 1): Endpoint {
  const to = (1 - end) as 0 | 1;
  const gate = new FlowGate(() => core.hasRoom(to), () => Promise.resolve(core.room(to)));
  return {
    inbox: core.inbox(end),
    ready: Promise.resolve(),
    // The check stays for every send, taken or not, so that a value that
    // slipped past its taking fails its sender rather than vanish where
    // the push is dropped.
    send: (value, transfer, taken) => {
      // What could not cross a process fails here, wherever the reader is.
      const json = surelyCloneable(value);
      if (!json) structuredClone(value);
      // A value that waits is taken (copied): exact JSON still.
      return sendWhenRoom(
        gate,
        value,
        taken,
        (v) => core.deliver(to, { value: v, json }, false, transfer),
      );
    },
    sendBytes: (bytes) => gate.pass(() => core.deliver(to, { bytes }), WAIT) ?? RESOLVED,
    close: () => core.closeLocal(end),
    describe: async (ctx) => ({
      kind: "pipe",
      address: await ref.address(ctx),
      id: ref.id,
      extra: { end },
    }),
  };
}

const RESOLVED = Promise.resolve();

/**
 * Sends a value through `gate`, by `send(value, taken)`: the value itself
 * when it goes now or the caller took it already, else the value as it is
 * now (`valueNow`, then taken), since it goes only once the reader has
 * room, and a change its sender makes meanwhile must not go with it
 * (`Connection.send`: taken at the call, as Python pickles it). Every send
 * of a value goes through here.
 */
function sendWhenRoom(
  gate: FlowGate,
  value: unknown,
  taken: boolean | undefined,
  send: (value: unknown, taken: boolean) => unknown,
): Promise<void> {
  const v = taken || !gate.waits() ? value : valueNow(value);
  const took = taken === true || v !== value;
  return gate.pass(() => send(v, took), WAIT) ?? RESOLVED;
}

/**
 * A sender's credit with the host of a pipe elsewhere: it may send about a
 * window ahead of what the host last said fits ("room" resolves once the
 * other end holds at most a window unread). Asked for half way, so that a
 * steady stream rarely waits a round trip.
 */
class Credit {
  #ref: ObjectRef;
  #end: 0 | 1;
  #since = 0;
  #asking: Promise<void> | undefined;

  constructor(ref: ObjectRef, end: 0 | 1) {
    this.#ref = ref;
    this.#end = end;
  }

  room(): boolean {
    return this.#since < limits().pipeWindow;
  }

  /** Counts a send of `bytes`; asks the host for room past half the window. */
  spend(bytes: number): void {
    this.#since += bytes;
    if (this.#since >= limits().pipeWindow / 2) this.whenRoom().catch(() => {});
  }

  whenRoom(): Promise<void> {
    if (this.#asking) return this.#asking;
    const asked = this.#since;
    this.#asking = (this.#ref.call("room", [this.#end]) as Promise<void>).then(
      () => void (this.#since -= asked),
    ).finally(() => (this.#asking = undefined));
    return this.#asking;
  }
}

/** An end of a pipe hosted by another process: the host pushes it what arrives. */
export function remoteEnd(ref: ObjectRef, end: 0 | 1, d: Descriptor): Endpoint {
  const inbox = new MessageInbox();
  // The host counts what waits here until this process says it was received.
  inbox.onTake = (m) => ref.defer("consumed", [end, m.size ?? 0], 16);
  ref.onPush((event, args) => {
    if (event === "disconnect") return inbox.end();
    if (args[0] !== end) return;
    if (event === "msg") inbox.push({ value: args[1], size: args[2] as number });
    else if (event === "bytes") {
      const bytes = args[1] as Uint8Array;
      inbox.push({ bytes, size: bytes.length });
    } else if (event === "eof") inbox.end();
  }, (event, args, n) => event === "bytes" && args[0] === end ? inbox.place(n) : undefined);
  const credit = new Credit(ref, end);
  const gate = new FlowGate(() => credit.room(), () => credit.whenRoom());
  return {
    inbox,
    ready: ref.call("attach", [end]),
    send: (value, _transfer, taken) =>
      sendWhenRoom(gate, value, taken, (v, took) => {
        const sent = ref.post("send", [end, v], undefined, took);
        credit.spend(sizeOf(v));
        return sent;
      }),
    sendBytes: (bytes) =>
      gate.pass(() => {
        const sent = ref.postBytes("sendBytes", [end], bytes);
        credit.spend(bytes.length);
        return sent;
      }, WAIT) ?? RESOLVED,
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

/**
 * A connection over its own authenticated socket (Listener/Client). Flow
 * control with the socket's own: a send waits while more than
 * `limits().unsent` bytes wait to be written, and this side stops reading
 * the socket while more than `limits().pipeWindow` bytes wait for its
 * reader, so that a reader that does not read holds back its sender.
 */
export function socketEnd(channel: SocketChannel): Endpoint {
  const inbox = new MessageInbox();
  let unread = 0;
  let resume: (() => void) | undefined;
  inbox.onTake = (m) => {
    unread -= m.size ?? 0;
    if (resume && unread <= limits().pipeWindow) resume();
  };
  // Bytes come with no header (see sendBytes below).
  channel.placer = (header, n) => header === null ? inbox.place(n) : undefined;
  (async () => {
    while (true) {
      if (unread > limits().pipeWindow) await new Promise<void>((r) => (resume = r));
      resume = undefined;
      const msg = await channel.recv();
      if (msg === CLOSED) break;
      const m: Message = msg instanceof BytesMessage
        ? { bytes: msg.bytes, size: msg.bytes.length }
        : { value: msg, size: sizeOf(msg) };
      unread += m.size!;
      inbox.push(m);
    }
    inbox.end();
  })();
  const gate = new FlowGate(
    () => channel.queued() <= limits().unsent,
    () => channel.whenBelow(limits().unsent / 2),
  );
  return {
    inbox,
    ready: Promise.resolve(),
    send: (value) => sendWhenRoom(gate, value, false, (v) => channel.post(v)),
    // Written from the caller's buffer: resolved only once it is written.
    sendBytes: (bytes) =>
      gate.pass(() => channel.send(new BytesMessage(null, bytes)), WAIT) ?? RESOLVED,
    close: () => {
      channel.close();
      resume?.();
    },
  };
}
