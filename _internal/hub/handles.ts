/**
 * Handles that travel: a queue, a pipe end or a lock passed as an argument
 * is replaced by a small descriptor (kind, host address, object id) before
 * it is cloned, and revived as a handle on the other side, which then talks
 * to the object's host. Structured clone alone would drop the class and its
 * private fields.
 *
 * @module
 */

import { isolateGlobal } from "../base/state.ts";
import type { Address } from "../transport/address.ts";
import { TO_DESCRIPTOR } from "../base/symbols.ts";

/** Marker key of a descriptor inside cloned data. */
const MARK = "__mpHandle";

/** What a handle becomes on the wire. */
export interface Descriptor {
  /** The handle class (`"queue"`, `"connection"`…). */
  kind: string;
  /** URL of the module that defines the class, imported on arrival if needed. */
  module: string;
  /** The host's address. */
  address: Address;
  /** The object's id in its host. */
  id: string;
  /** Anything else the class needs (maxsize…). */
  extra?: Record<string, unknown>;
  /** URL of the module whose {@link HandleHook} follows this handle (a manager's). */
  via?: string;
  /** What that hook carries with the handle. */
  meta?: unknown;
}

/**
 * Follows handles as they travel (a manager counts the references to the
 * objects it serves): `pack` sees each descriptor made in this process and
 * may set its `via` and `meta`; `revive` sees each handle revived from a
 * descriptor whose `via` names the hook's module.
 */
export interface HandleHook {
  /** Called with each descriptor packed here. */
  pack(d: Descriptor): void;
  /** Called with a handle revived from a descriptor with this hook's `via`. */
  revive(d: Descriptor, handle: unknown): void;
}

function hooks(): Map<string, HandleHook> {
  return isolateGlobal("handleHooks", () => (new Map<string, HandleHook>()));
}

/** Registers the hook of module `moduleUrl` (see {@link HandleHook}). */
export function registerHandleHook(moduleUrl: string, hook: HandleHook): void {
  hooks().set(moduleUrl, hook);
}

/** Describes one handle, as {@link packHandles} does. */
export async function describe(handle: Travelling, ctx: PackContext = {}): Promise<Descriptor> {
  const d = await handle[TO_DESCRIPTOR](ctx);
  for (const hook of hooks().values()) hook.pack(d);
  return d;
}

/** Rebuilds one handle from its descriptor, as {@link reviveHandles} does. */
export async function revive(d: Descriptor): Promise<unknown> {
  let reviver = revivers().get(d.kind);
  if (!reviver) {
    await import(d.module);
    reviver = revivers().get(d.kind);
  }
  if (!reviver) throw new TypeError(`Cannot revive a handle of kind '${d.kind}'`);
  const handle = await reviver(d);
  if (d.via) {
    if (!hooks().has(d.via)) await import(d.via);
    hooks().get(d.via)?.revive(d, handle);
  }
  return handle;
}

/** Where packed handles are going. */
export interface PackContext {
  /**
   * The receiver is a worker of this process (or of a worker of it), reached
   * by `postMessage`: `SharedArrayBuffer`s may go in descriptors, and are
   * then shared, not copied. Elsewhere they could not be serialized.
   */
  sharedMemory?: boolean;
}

/** Something that can travel. */
export interface Travelling {
  /** Opens the hub if needed and describes this handle. */
  [TO_DESCRIPTOR](ctx?: PackContext): Promise<Descriptor>;
}

type Reviver = (d: Descriptor) => unknown;

function revivers(): Map<string, Reviver> {
  return isolateGlobal("revivers", () => (new Map<string, Reviver>()));
}

/** Registers how to rebuild handles of a kind. */
export function registerReviver(kind: string, reviver: Reviver): void {
  revivers().set(kind, reviver);
}

const MAX_DEPTH = 8;

function isTravelling(v: unknown): v is Travelling {
  return typeof v === "object" && v !== null && TO_DESCRIPTOR in v;
}

function isPlain(v: unknown): v is Record<string, unknown> {
  if (typeof v !== "object" || v === null) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/** Whether `value` holds a handle where {@link packHandles} would find it. */
export function hasHandles(value: unknown, depth = 0): boolean {
  if (isTravelling(value)) return true;
  if (depth >= MAX_DEPTH || typeof value !== "object" || value === null) return false;
  if (Array.isArray(value)) return value.some((v) => hasHandles(v, depth + 1));
  if (value instanceof Map) {
    for (const v of value.values()) if (hasHandles(v, depth + 1)) return true;
    return false;
  }
  return isPlain(value) && Object.values(value).some((v) => hasHandles(v, depth + 1));
}

/**
 * Replaces handles inside `value` (in arrays, plain objects and Map values,
 * a few levels deep) by descriptors. Returns the value itself when it holds
 * none, so the common case copies nothing.
 */
export async function packHandles<T>(value: T, ctx: PackContext = {}, depth = 0): Promise<T> {
  if (isTravelling(value)) return { [MARK]: await describe(value, ctx) } as T;
  if (depth >= MAX_DEPTH) return value;
  if (Array.isArray(value)) {
    let out: unknown[] | undefined;
    for (let i = 0; i < value.length; i++) {
      const packed = await packHandles(value[i], ctx, depth + 1);
      if (packed !== value[i]) (out ??= value.slice())[i] = packed;
    }
    return (out ?? value) as T;
  }
  if (value instanceof Map) {
    let out: Map<unknown, unknown> | undefined;
    for (const [k, v] of value) {
      const packed = await packHandles(v, ctx, depth + 1);
      if (packed !== v) (out ??= new Map(value)).set(k, packed);
    }
    return (out ?? value) as T;
  }
  if (isPlain(value)) {
    let out: Record<string, unknown> | undefined;
    for (const key of Object.keys(value)) {
      const packed = await packHandles(value[key], ctx, depth + 1);
      if (packed !== value[key]) (out ??= { ...value })[key] = packed;
    }
    return (out ?? value) as T;
  }
  return value;
}

/** Rebuilds handles from the descriptors {@link packHandles} left. */
export async function reviveHandles<T>(value: T, depth = 0): Promise<T> {
  if (depth >= MAX_DEPTH || typeof value !== "object" || value === null) return value;
  if (isPlain(value) && MARK in value) {
    return await revive(value[MARK] as Descriptor) as T;
  }
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) value[i] = await reviveHandles(value[i], depth + 1);
  } else if (value instanceof Map) {
    for (const [k, v] of value) value.set(k, await reviveHandles(v, depth + 1));
  } else if (isPlain(value)) {
    const obj: Record<string, unknown> = value;
    for (const key of Object.keys(obj)) obj[key] = await reviveHandles(obj[key], depth + 1);
  }
  return value;
}

/** The descriptors {@link packHandles} left inside `value` (as far down as it looks). */
export function descriptorsIn(value: unknown, out: Descriptor[] = [], depth = 0): Descriptor[] {
  if (depth >= MAX_DEPTH || typeof value !== "object" || value === null) return out;
  if (isPlain(value) && MARK in value) {
    out.push(value[MARK] as Descriptor);
  } else if (Array.isArray(value)) {
    for (const v of value) descriptorsIn(v, out, depth + 1);
  } else if (value instanceof Map) {
    for (const v of value.values()) descriptorsIn(v, out, depth + 1);
  } else if (isPlain(value)) {
    for (const v of Object.values(value)) descriptorsIn(v, out, depth + 1);
  }
  return out;
}
