/**
 * This isolate's object registry: the objects it hosts and its
 * connections to other hosts. Like `state()`, it hangs off `globalThis`, so
 * two copies of the library loaded in one isolate share it.
 *
 * @module
 */

import { isolateGlobal } from "../base/state.ts";
import type { HostConnection, HostedEntry } from "./protocol.ts";

/** This isolate's hosted objects and connections to hosts. */
export interface Registry {
  /** Objects hosted here, by id. */
  objects: Map<string, HostedEntry>;
  /** Connections to other hosts, by address (`addressToString`). */
  clients: Map<string, HostConnection>;
  /** The next connection's peer id. */
  nextPeer: number;
  /** The next hosted object's id. */
  nextObject: number;
}

/**
 * This isolate's object registry, made on first use. Like `state()`, it
 * hangs off `globalThis`, so two copies of the library loaded in one
 * isolate share it.
 */
export function registry(): Registry {
  return isolateGlobal("objects", () => ({
    objects: new Map(),
    clients: new Map(),
    nextPeer: 1,
    nextObject: 1,
  }));
}
