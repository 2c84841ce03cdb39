/**
 * The options of a manager, where it listens, and the types registered on
 * a manager class (each class its own copy, so a subclass's types do not
 * leak to its parent).
 *
 * @module
 */

import type { TypeSpec } from "../_internal/manager/server.ts";
import { type Address, toAddress } from "../_internal/transport/address.ts";

/** Where a manager listens: a TCP host and port, or a Unix socket path. */
export type ManagerAddress =
  | { transport: "tcp"; hostname: string; port: number }
  | { transport: "unix"; path: string };

/** Options of a `BaseManager`. */
export interface ManagerOptions {
  /**
   * Where to listen (`start`, `serveForever`: a TCP `{ hostname, port }`,
   * port 0 for any free one) or where the manager is (`connect`).
   * @default {a private Unix socket (TCP on 127.0.0.1 where there are none)}
   */
  address?: ManagerAddress | { hostname?: string; port: number };
  /**
   * The key clients must prove (bytes, or a string taken as UTF-8), at
   * least 16 bytes; on TCP, a long random one (it is all that guards the
   * port: the traffic itself is not encrypted).
   * @default {this process tree's authkey}
   */
  authkey?: Uint8Array | string;
  /** Extra `deno run` flags for the manager process (`--import-map`…). */
  runtimeArgs?: string[];
}

/** Options of `BaseManager.register`. */
export interface RegisterOptions {
  /**
   * The methods a proxy may call.
   * @default {the object's public methods (names not starting with `_`)}
   */
  methods?: string[];
  /**
   * URL of the module exporting the factory (the manager process imports it).
   * @default {the main module}
   */
  module?: string;
}

/** Options of `BaseManager.serveForever`. */
export interface ServeForeverOptions {
  /** Called with the address once the manager listens. */
  onListen?: (address: ManagerAddress) => void;
  /** Shuts the manager down when aborted. */
  signal?: AbortSignal;
}

const TYPES = new WeakMap<object, Map<string, TypeSpec>>();

/** The types registered on a manager class and its ancestors. */
export function typesOf(cls: object | null): Map<string, TypeSpec> {
  for (let c = cls; c; c = Object.getPrototypeOf(c)) {
    const t = TYPES.get(c);
    if (t) return t;
  }
  return new Map();
}

/** The types of `cls` itself, copied from its ancestors' on first write. */
export function ownTypes(cls: object): Map<string, TypeSpec> {
  let own = TYPES.get(cls);
  if (!own) TYPES.set(cls, own = new Map(typesOf(Object.getPrototypeOf(cls))));
  return own;
}

/** A manager's address option, checked. */
export function managerAddress(a: ManagerOptions["address"]): Address | undefined {
  return a && toAddress(a, "use manager address");
}

/** An address as text, for messages. */
export function fmt(a: Address): string {
  return a.transport === "unix" ? a.path : `${a.hostname}:${a.port}`;
}
