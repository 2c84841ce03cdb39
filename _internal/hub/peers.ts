/**
 * The peers of the object server: a connection's view as its hosted objects
 * see it (who it is, how to push to it). Pushes to a worker child of this
 * process go over the worker's port instead of its socket
 * ({@link registerLocalWorker}).
 *
 * @module
 */

import { isolateGlobal } from "../base/state.ts";
import type { Channel, MessagePortLike } from "../transport/channel.ts";
import { addressToString } from "../transport/address.ts";
import { BytesMessage, surelyCloneable } from "../wire/codec.ts";
import { hubAddress } from "./hub.ts";
import type { Peer } from "./protocol.ts";

/** Ports of this process's running worker children, by ident. */
export function localWorkers(): Map<string, MessagePortLike> {
  return isolateGlobal("localWorkers", () => (new Map<string, MessagePortLike>()));
}

/**
 * Registers a worker child's port: pushes to it (pipe data) then go by
 * `postMessage`, one structured-clone copy or a transfer, instead of
 * through the socket. Returns the unregister function.
 */
export function registerLocalWorker(ident: string, port: MessagePortLike): () => void {
  localWorkers().set(ident, port);
  return () => localWorkers().delete(ident);
}

/**
 * A peer that is a worker of this process: pushes go over its port, in
 * order. Arguments that JSON carries exactly go as JSON text, which the
 * worker parses: measured, V8's serializer took about 21 µs for a batch of
 * 64 pool tasks, JSON about 4 µs (a string is copied as it is).
 */
export function portPeer(id: number, session: string, port: MessagePortLike): Peer {
  const host = addressToString(hubAddress()!);
  const push = (
    p: string,
    ev: string,
    a: unknown[],
    transfer?: Transferable[],
    known?: boolean,
  ) => {
    const json = !transfer?.length && (known === true || surelyCloneable(a));
    const m = json
      ? { op: "push", host, p, ev, j: JSON.stringify(a) }
      : { op: "push", host, p, ev, a };
    try {
      port.postMessage(m, transfer ?? []);
    } catch { /* the worker is gone */ }
  };
  return {
    id,
    session,
    push,
    pushBytes(p, ev, a, bytes) {
      push(p, ev, [...a, bytes]);
      return Promise.resolve();
    },
  };
}

/** A peer across a socket: pushes are posted on its connection. */
export function socketPeer(id: number, session: string, channel: Channel): Peer {
  return {
    id,
    session,
    push(objectId, event, args, _transfer, json) {
      channel.post({ p: objectId, ev: event, a: args }, json).catch(() => {});
    },
    pushBytes(objectId, event, args, bytes) {
      return channel.send(new BytesMessage({ p: objectId, ev: event, a: args }, bytes)).catch(
        () => {},
      );
    },
  };
}
