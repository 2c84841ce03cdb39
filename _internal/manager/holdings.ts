/**
 * What the manager's own objects share: the {@link Holdings} a container
 * reports values to (so a manager object inside a dict lives while the dict
 * holds it), the key type of a dict, and their errors.
 *
 * @module
 */

/** Hears of values stored in, removed from and read out of a container. */
export interface Holdings {
  /** A value was stored. */
  stored(value: unknown): void;
  /** A stored value was removed. */
  removed(value: unknown): void;
  /**
   * A stored value is sent to a caller; returns it as it is sent (its
   * handles beside it: a `WithHandles`, when it holds some).
   */
  readOut(value: unknown): unknown;
}

/** Dict keys: values compared by identity, so primitives. */
export type DictKey = string | number | bigint | boolean | null | undefined;

/** The error for a method a managed object does not have. */
export function noMethod(kind: string, method: string): TypeError {
  return new TypeError(`Cannot call '${method}' on a managed ${kind}: no such method`);
}

/** Checks that an operand is a number. */
export function checkNumber(what: string, v: unknown): number {
  if (typeof v !== "number" || Number.isNaN(v)) {
    throw new TypeError(`Cannot ${what}: the value must be a number, received ${String(v)}`);
  }
  return v;
}
