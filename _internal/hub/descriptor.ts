/**
 * What a handle becomes on the wire, and the closed table of the kinds of
 * handle there are. A descriptor that arrives is data from another process:
 * it is checked field by field, and a fresh one is made of the fields the
 * library knows (a key, a module URL or anything else it carries is
 * dropped). Its `kind` picks an entry of {@link KIND_MODULES}, the
 * library's own modules: nothing received ever names a module to import.
 *
 * @module
 */

import type { Address } from "../transport/address.ts";

/** What a handle becomes on the wire. */
export interface Descriptor {
  /** The handle class (`"queue"`, `"pipe"`, `"lock"`…), one of {@link KIND_MODULES}. */
  kind: string;
  /** The host's address. */
  address: Address;
  /** The object's id in its host. */
  id: string;
  /** Anything else the class needs (maxsize, a pipe's end…). */
  extra?: Record<string, unknown>;
  /** Set when a manager counts the references to the object: its registry's id. */
  managed?: { registry: string };
}

/**
 * Every kind of handle, and the library module (relative to the library's
 * root) whose import registers its reviver. A process that has not loaded
 * that module yet (a child whose target module imports only types) imports
 * it from this table, and from nowhere else.
 */
export const KIND_MODULES: Readonly<Record<string, string>> = Object.freeze({
  queue: "queue.ts",
  pipe: "connection/connection.ts",
  lock: "synchronize/lock.ts",
  semaphore: "synchronize/semaphore.ts",
  event: "synchronize/event.ts",
  condition: "synchronize/condition.ts",
  barrier: "synchronize/barrier.ts",
  shared: "shared.ts",
  "mp.dict": "manager/proxies.ts",
  "mp.list": "manager/proxies.ts",
  "mp.namespace": "manager/proxies.ts",
  "mp.value": "manager/proxies.ts",
  "mp.array": "manager/proxies.ts",
  "mp.object": "manager/proxies.ts",
});

/** The module that counts a manager's references (see `manager/refcount.ts`). */
export const MANAGED_MODULE = "_internal/manager/refcount.ts";

/** The URL of a module of this copy of the library (this file is in `_internal/hub/`). */
export function libraryModule(path: string): string {
  return new URL(`../../${path}`, import.meta.url).href;
}

/** Longest object id, registry id or TCP host name accepted in a descriptor. */
const MAX_NAME = 255;

/** Longest Unix socket path accepted in a descriptor. */
const MAX_PATH = 4096;

function isPlain(v: unknown): v is Record<string, unknown> {
  if (typeof v !== "object" || v === null) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

function bad(what: string): TypeError {
  return new TypeError(`Cannot revive a handle: ${what}`);
}

function name(v: unknown, what: string): string {
  if (typeof v !== "string" || v.length === 0 || v.length > MAX_NAME) {
    throw bad(`${what} is malformed`);
  }
  return v;
}

/** A received address, checked: a Unix socket path, or a TCP host and port. */
export function checkAddress(a: unknown): Address {
  if (!isPlain(a)) throw bad("its address is not an object");
  if (a.transport === "unix") {
    const p = a.path;
    if (typeof p !== "string" || !p.startsWith("/") || p.length > MAX_PATH || p.includes("\0")) {
      throw bad("its socket path is malformed");
    }
    return { transport: "unix", path: p };
  }
  const port = a.port;
  if (
    a.transport !== "tcp" || !Number.isInteger(port) || (port as number) < 1 ||
    (port as number) > 65535
  ) {
    throw bad("its address is malformed");
  }
  return { transport: "tcp", hostname: name(a.hostname, "its host name"), port: port as number };
}

/**
 * A descriptor received from another process, checked; the result is a new
 * object with only the fields the library knows.
 *
 * @throws {TypeError} When a field is malformed or the kind is unknown.
 */
export function checkDescriptor(d: unknown): Descriptor {
  if (!isPlain(d)) throw bad("its descriptor is not an object");
  const kind = d.kind;
  if (typeof kind !== "string" || !Object.hasOwn(KIND_MODULES, kind)) {
    throw bad(`unknown kind '${String(kind).slice(0, 32)}'`);
  }
  const out: Descriptor = { kind, address: checkAddress(d.address), id: name(d.id, "its id") };
  if (d.extra !== undefined) {
    if (!isPlain(d.extra)) throw bad("its extra fields are not an object");
    out.extra = d.extra;
  }
  if (d.managed !== undefined) {
    if (!isPlain(d.managed)) throw bad("its manager is malformed");
    out.managed = { registry: name(d.managed.registry, "its registry id") };
  }
  return out;
}
