/**
 * Handles inside the values a host holds (a manager's dict, list or
 * namespace): where a call said a descriptor is (the message's handle
 * paths), the host puts a {@link HandleMark}, a wrapper that no decoded
 * value can be. What the host stores keeps its marks through every copy and
 * slice; what it sends back carries them as descriptors again, with their
 * paths beside the value ({@link withHandles}). A plain value shaped like a
 * descriptor is never a mark.
 *
 * @module
 */

import { checkDescriptor, type Descriptor } from "./descriptor.ts";
import { reviveAt, WithHandles } from "./handles.ts";
import { checkPaths, isPlain, MAX_DEPTH, type Path, replaceAtSync } from "./paths.ts";

/** A handle inside a value a host holds: its (checked) descriptor. */
export class HandleMark {
  /** Wraps a checked descriptor. */
  constructor(readonly d: Descriptor) {}
}

/**
 * Puts a mark where each of `handles` says a descriptor is inside `args`
 * (in place): what a host does with a call's handle paths.
 *
 * @throws {TypeError} When a path or a descriptor is malformed.
 */
export function markAt(args: unknown[], handles: unknown): void {
  for (const path of checkPaths(handles)) {
    if (path.length === 0) {
      throw new TypeError("Cannot revive handles: a call's arguments are not one");
    }
    replaceAtSync(args, path, (d) => new HandleMark(checkDescriptor(d)));
  }
}

/** The descriptors of the marks inside `value`, as deep as handles are looked for. */
export function marksIn(value: unknown, out: Descriptor[] = [], depth = 0): Descriptor[] {
  if (value instanceof HandleMark) {
    out.push(value.d);
  } else if (depth >= MAX_DEPTH || typeof value !== "object" || value === null) {
    return out;
  } else if (Array.isArray(value)) {
    for (const v of value) marksIn(v, out, depth + 1);
  } else if (value instanceof Map) {
    for (const v of value.values()) marksIn(v, out, depth + 1);
  } else if (isPlain(value)) {
    for (const v of Object.values(value)) marksIn(v, out, depth + 1);
  }
  return out;
}

/**
 * A value a host sends: when it holds marks, a {@link WithHandles} of a copy
 * with their descriptors in place and their paths; else the value itself.
 */
export function withHandles(value: unknown): unknown {
  const paths: Path[] = [];
  const out = unmark(value, [], paths);
  return paths.length > 0 ? new WithHandles(out, paths) : value;
}

function unmark(value: unknown, path: Path, out: Path[]): unknown {
  if (value instanceof HandleMark) {
    out.push(path);
    return value.d;
  }
  if (path.length >= MAX_DEPTH || typeof value !== "object" || value === null) return value;
  if (Array.isArray(value)) {
    let copy: unknown[] | undefined;
    for (let i = 0; i < value.length; i++) {
      const v = unmark(value[i], [...path, i], out);
      if (v !== value[i]) (copy ??= value.slice())[i] = v;
    }
    return copy ?? value;
  }
  if (value instanceof Map) {
    let copy: Map<unknown, unknown> | undefined;
    let i = 0;
    for (const [k, v] of value) {
      const u = unmark(v, [...path, -(i++ + 1)], out);
      if (u !== v) (copy ??= new Map(value)).set(k, u);
    }
    return copy ?? value;
  }
  if (!isPlain(value)) return value;
  let copy: Record<string, unknown> | undefined;
  for (const key of Object.keys(value)) {
    const v = unmark(value[key], [...path, key], out);
    if (v !== value[key]) (copy ??= { ...value })[key] = v;
  }
  return copy ?? value;
}

/** A held value with its marks revived into working handles (a copy where there are some). */
export async function reviveMarked(value: unknown): Promise<unknown> {
  const w = withHandles(value);
  // The copy's containers on the way to each handle are its own: revived in place.
  return w instanceof WithHandles ? await reviveAt(w.value, w.handles) : value;
}
