/**
 * Handles that travel: a queue, a pipe end or a lock passed as an argument
 * is replaced by a small descriptor (kind, host address, object id) before
 * it is cloned, and revived as a handle on the other side, which then talks
 * to the object's host. Structured clone alone would drop the class and its
 * private fields.
 *
 * Which places of a value hold handles travels beside the value, as a list
 * of paths set by the library where it packed them ({@link packHandles}),
 * never inside it: a plain value shaped like a descriptor stays a plain
 * value wherever it goes. A descriptor is revived only at a listed path,
 * only after it is checked, and only by a reviver the library registered
 * for its kind (`descriptor.ts`): nothing received ever chooses a module to
 * import.
 *
 * @module
 */

import { isolateGlobal } from "../base/state.ts";
import { TO_DESCRIPTOR } from "../base/symbols.ts";
import {
  checkDescriptor,
  type Descriptor,
  KIND_MODULES,
  libraryModule,
  MANAGED_MODULE,
} from "./descriptor.ts";
import { checkPaths, isPlain, MAX_DEPTH, type Path, replaceAt, replaceAtSync } from "./paths.ts";
import { jsonClone, NOT_BARE, NOT_JSON } from "../wire/measure.ts";
import { checkPlain } from "../wire/plain.ts";

export type { Descriptor } from "./descriptor.ts";
export { checkPaths, type Path } from "./paths.ts";

/**
 * A value and the paths of the handles inside it, as they travel: what a
 * host's reply resolves to when it carries handles, and what a host's
 * object returns to send some (see `marks.ts`). Only the library makes one.
 */
export class WithHandles {
  /** Wraps a value whose handles are at `handles`. */
  constructor(readonly value: unknown, readonly handles: Path[]) {}
}

/**
 * Follows handles to a manager's objects (it counts their references):
 * `pack` sees each descriptor made in this process and may set its
 * `managed`; `revive` sees each handle revived from a descriptor with one.
 */
export interface HandleHook {
  /** Called with each descriptor packed here. */
  pack(d: Descriptor): void;
  /** Called with a handle revived from a descriptor that has `managed`. */
  revive(d: Descriptor, handle: unknown): void;
}

interface HookSlot {
  hook?: HandleHook;
}

function hookSlot(): HookSlot {
  return isolateGlobal("handleHook", () => ({} as HookSlot));
}

/** Registers the manager's hook (see {@link HandleHook}). */
export function registerHandleHook(hook: HandleHook): void {
  hookSlot().hook = hook;
}

/** Describes one handle, as {@link packHandles} does. */
export async function describe(handle: Travelling, ctx: PackContext = {}): Promise<Descriptor> {
  const d = await handle[TO_DESCRIPTOR](ctx);
  hookSlot().hook?.pack(d);
  return d;
}

/**
 * The library modules a process imports to revive the handles at `paths`
 * in `value` (the table's, and the manager's counting for a managed one):
 * what a warm spare imports before a task with such handles comes.
 */
export function reviverModules(value: unknown, paths: Path[] = []): string[] {
  const out = new Set<string>();
  for (const path of paths) {
    replaceAtSync(value, path, (d) => {
      const { kind, managed } = (d ?? {}) as Partial<Descriptor>;
      if (typeof kind === "string" && Object.hasOwn(KIND_MODULES, kind)) {
        out.add(libraryModule(KIND_MODULES[kind]));
      }
      if (managed) out.add(libraryModule(MANAGED_MODULE));
      return d;
    });
  }
  return [...out];
}

/** Imports the library module that registers a kind's reviver: the table's, never the data's. */
async function reviverOf(kind: string): Promise<Reviver> {
  let reviver = revivers().get(kind);
  if (!reviver) {
    await import(libraryModule(KIND_MODULES[kind]));
    reviver = revivers().get(kind);
  }
  if (!reviver) throw new TypeError(`Cannot revive a handle of kind '${kind}'`);
  return reviver;
}

/**
 * Rebuilds one handle from a descriptor received from another process,
 * checked first ({@link checkDescriptor}).
 *
 * @throws {TypeError} When the descriptor is malformed or of an unknown kind.
 */
export async function revive(received: unknown): Promise<unknown> {
  const d = checkDescriptor(received);
  const handle = await (await reviverOf(d.kind))(d);
  if (d.managed) {
    const slot = hookSlot();
    if (!slot.hook) await import(libraryModule(MANAGED_MODULE));
    slot.hook?.revive(d, handle);
  }
  return handle;
}

/**
 * Revives a descriptor that a handle carries inside its own (a condition's
 * lock): it must be of `kind`.
 *
 * @throws {TypeError} When it is malformed or of another kind.
 */
export function reviveKind(received: unknown, kind: string): Promise<unknown> {
  if ((received as { kind?: unknown } | null)?.kind !== kind) {
    return Promise.reject(new TypeError(`Cannot revive a handle: expected a ${kind}`));
  }
  return revive(received);
}

/** Where packed handles are going. */
export interface PackContext {
  /**
   * The receiver is a worker of this process (or of a worker of it), reached
   * by `postMessage`: `SharedArrayBuffer`s may go in descriptors, and are
   * then shared, not copied. Elsewhere they could not be serialized.
   */
  sharedMemory?: boolean;
  /**
   * The receiver is a worker child of this process that reaches this
   * process's hub over its launch port (`hub/ports.ts`): a hub with no
   * permission to listen may describe its objects by its port name.
   */
  toWorker?: boolean;
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

/** Registers how to rebuild handles of a kind (one of the table in `descriptor.ts`). */
export function registerReviver(kind: string, reviver: Reviver): void {
  revivers().set(kind, reviver);
}

function isTravelling(v: unknown): v is Travelling {
  return typeof v === "object" && v !== null && TO_DESCRIPTOR in v;
}

/** Whether `value` holds a handle where {@link packHandles} would find it. */
export function hasHandles(value: unknown, depth = 0): boolean {
  if (isTravelling(value)) return true;
  if (depth >= MAX_DEPTH || typeof value !== "object" || value === null) return false;
  if (Array.isArray(value)) {
    // A loop that passes over primitives (no handle is one): a chunk of a
    // map is mostly numbers and strings, and a callback per element cost a
    // 125,000-item chunk about 1.4 ms in the parent.
    for (let i = 0; i < value.length; i++) {
      const v = value[i];
      if (typeof v === "object" && v !== null && hasHandles(v, depth + 1)) return true;
    }
    return false;
  }
  if (value instanceof Map) {
    for (const v of value.values()) if (hasHandles(v, depth + 1)) return true;
    return false;
  }
  return isPlain(value) && Object.values(value).some((v) => hasHandles(v, depth + 1));
}

/**
 * `value` as it is now, for a message that goes later (a pool task waits
 * for its worker): exact JSON copied by hand, other data by structured
 * clone, so that a change the caller makes meanwhile does not go with it.
 * A value holding handles is kept as it is: it is packed when it goes.
 * With `strict`, a value that would lose its class is refused
 * ({@link checkPlain}, naming `path`); the walk that copies JSON checks it.
 *
 * @throws {DOMException} `DataCloneError` when it is refused or cannot be cloned.
 */
export function valueNow<T>(value: T, strict = false, path: string | (() => string) = "value"): T {
  if (typeof value !== "object" || value === null) {
    // A function or a symbol cannot be cloned: refused here, as in a list.
    return typeof value === "function" || typeof value === "symbol"
      ? structuredClone(value)
      : value;
  }
  let copy = jsonClone(value, strict);
  if (copy === NOT_BARE || (copy === NOT_JSON && strict)) {
    checkPlain(value, typeof path === "string" ? path : path());
  }
  if (copy === NOT_BARE) copy = jsonClone(value);
  if (copy !== NOT_JSON) return copy as T;
  return hasHandles(value) ? value : structuredClone(value);
}

/** A value as it travels: its handles replaced by descriptors, and where they are. */
export interface Packed<T> {
  /** The value, with descriptors where the handles were (the value itself when none). */
  value: T;
  /** The paths of the descriptors in it; absent when it holds no handle. */
  handles?: Path[];
}

/**
 * Replaces handles inside `value` (in arrays, plain objects and Map values,
 * a few levels deep) by descriptors, copying only the containers on their
 * way, and lists where they are. A value without handles comes back as it is.
 */
export async function packHandles<T>(value: T, ctx: PackContext = {}): Promise<Packed<T>> {
  const handles: Path[] = [];
  const packed = await packInto(value, ctx, [], handles) as T;
  return handles.length > 0 ? { value: packed, handles } : { value };
}

async function packInto(
  value: unknown,
  ctx: PackContext,
  path: Path,
  out: Path[],
): Promise<unknown> {
  if (isTravelling(value)) {
    out.push(path);
    return await describe(value, ctx);
  }
  if (path.length >= MAX_DEPTH || typeof value !== "object" || value === null) return value;
  if (Array.isArray(value)) {
    let copy: unknown[] | undefined;
    for (let i = 0; i < value.length; i++) {
      const p = await packInto(value[i], ctx, [...path, i], out);
      if (p !== value[i]) (copy ??= value.slice())[i] = p;
    }
    return copy ?? value;
  }
  if (value instanceof Map) {
    let copy: Map<unknown, unknown> | undefined;
    let i = 0;
    for (const [k, v] of value) {
      // A Map entry's step is negative: -(its position + 1).
      const p = await packInto(v, ctx, [...path, -(i++ + 1)], out);
      if (p !== v) (copy ??= new Map(value)).set(k, p);
    }
    return copy ?? value;
  }
  if (!isPlain(value)) return value;
  let copy: Record<string, unknown> | undefined;
  for (const key of Object.keys(value)) {
    const p = await packInto(value[key], ctx, [...path, key], out);
    if (p !== value[key]) (copy ??= { ...value })[key] = p;
  }
  return copy ?? value;
}

/** The descriptors at `handles` inside a packed value (this process packed it: not checked). */
export function descriptorsAt(value: unknown, handles: Path[] | undefined): Descriptor[] {
  const out: Descriptor[] = [];
  for (const path of handles ?? []) {
    replaceAtSync(value, path, (d) => (out.push(d as Descriptor), d));
  }
  return out;
}

/**
 * Revives the descriptors at `handles` inside `value` (in place) into
 * working handles; a value without paths comes back as it is, whatever it
 * holds.
 *
 * @throws {TypeError} When a path does not lead to a well-formed descriptor.
 */
export async function reviveAt<T>(value: T, handles: unknown): Promise<T> {
  if (handles === undefined) return value;
  let out: unknown = value;
  for (const path of checkPaths(handles)) {
    out = await replaceAt(out, path, (d) => revive(d));
  }
  return out as T;
}
