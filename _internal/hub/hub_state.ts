/**
 * The hub's state, apart from the hub (`hub.ts`), which opens and serves
 * it: what asks only whether it is open, and where, loads no socket, so a
 * program that never shares an object never loads them.
 *
 * @module
 */

import { isolateGlobal, type TransportKind } from "../base/state.ts";
import type { Channel } from "../transport/channel.ts";
import type { BoundListener } from "../transport/listen.ts";
import type { Address } from "../transport/address.ts";

/**
 * Handles the first message of a connection, then owns the channel; `kid`
 * is the id of the key the peer proved (`""`: the hub's own).
 */
export type Handler = (
  channel: Channel,
  first: Record<string, unknown>,
  kid: string,
) => void;

/** What the hub is: its listener once open, its users and handlers. */
export interface HubState {
  bound: BoundListener | undefined;
  /** The hub's name when it may not listen and serves worker children over ports only. */
  portName?: Address;
  users: number;
  handlers: Map<string, Handler>;
  config?: HubConfig;
}

/** Where and with which key the hub listens, when not the process's defaults. */
export interface HubConfig {
  /** The key peers must prove; default: this process tree's authkey. */
  authkey?: Uint8Array;
  /** The transport; default: the process's. */
  transport?: TransportKind;
  /** TCP host name to listen on. */
  hostname?: string;
  /** TCP port to listen on (0: any free one). */
  port?: number;
  /** The directory for the Unix socket, made by another process (a manager's owner). */
  dir?: string;
}

/** This isolate's hub, open or not. */
export function hub(): HubState {
  return isolateGlobal("hub", () => ({
    bound: undefined,
    users: 0,
    handlers: new Map(),
  }));
}

/** The hub's address if it is open (or its port name: `portName` in `hub.ts`). */
export function hubAddress(): Address | undefined {
  const h = hub();
  return h.bound?.address ?? h.portName;
}
