/**
 * Every bound of the wire, the transport and the object protocol, in one
 * table, so that each is set in one place and documented once (README,
 * "Limits"). The values are per isolate; tests lower them to exercise the
 * paths they guard with small numbers (`setLimits`).
 *
 * @module
 */

import { isolateGlobal } from "../base/state.ts";

/** The bounds, in bytes, counts or milliseconds. */
export interface Limits {
  /**
   * Largest frame read once a connection is authenticated. A message larger
   * than {@link Limits.piece} travels in pieces, each a frame of its own, so
   * this bounds one allocation by a peer's header, not a message's size.
   */
  frame: number;
  /** Largest frame written: a longer message is cut into pieces of this size. */
  piece: number;
  /**
   * Largest message, however many pieces it takes: a larger one is refused
   * by its sender with a `RangeError` naming this limit.
   */
  message: number;
  /**
   * Bytes a producer may have accepted and not yet written to one host
   * (queued puts, pipe sends) before its next put or send waits for them to
   * be written.
   */
  unsent: number;
  /**
   * Bytes a pipe end may hold that its reader has not received before a
   * sender waits (what Python's pipe buffer bounds).
   */
  pipeWindow: number;
  /** Connections per listener that may wait for the authkey challenge; the oldest is shed. */
  pendingAuth: number;
  /** First and last delay (ms) before retrying a failed accept ("Too many open files"). */
  acceptBackoffMs: [number, number];
  /** How long (ms) a client session's references outlive its last connection. */
  sessionGraceMs: number;
  /** Attempts at reaching a host before a call fails (the first included). */
  connectAttempts: number;
  /** A tight loop of puts in the hosting process yields after this many… */
  paceCalls: number;
  /** …or after this many milliseconds, whichever comes first. */
  paceMs: number;
  /**
   * Deepest nesting of a value received as JSON: a deeper frame is refused
   * (it closes its connection). Re-encoded with structured clone, a value
   * must fit V8's serializer (about 3,500 levels here); JSON.parse takes
   * far deeper, so a host would accept what it could not hand on.
   */
  depth: number;
  /**
   * Bytes a host may have queued for one connection and not yet written
   * before it stops reading that connection's calls (until half is written).
   */
  backlog: number;
  /**
   * Bytes queued for one connection past which a reply that adds to a
   * backlog (more than {@link Limits.backlog} already queued) closes it: a
   * client that never reads its replies cannot grow its host without end.
   */
  backlogHard: number;
  /**
   * Calls one connection may have in flight at a host (waiting for their
   * replies, or fire-and-forget calls still running); a call past it fails
   * with a `ProcessError` (is dropped, without a reply).
   */
  callsInFlight: number;
  /** Objects one client session may have created and not yet freed at a manager. */
  objectsPerClient: number;
}

const DEFAULTS: Limits = {
  // A frame is at most a piece (16 MiB) and a message's first piece's total
  // length (8 bytes): no frame of the library is larger.
  frame: (16 << 20) + 8,
  piece: 16 << 20,
  message: 2 ** 32,
  unsent: 1 << 20,
  pipeWindow: 1 << 20,
  pendingAuth: 64,
  acceptBackoffMs: [10, 500],
  sessionGraceMs: 5000,
  connectAttempts: 3,
  paceCalls: 1000,
  paceMs: 5,
  depth: 1000,
  backlog: 8 << 20,
  backlogHard: 256 << 20,
  callsInFlight: 4096,
  objectsPerClient: 10_000,
};

// One object per isolate (two copies of the library share it), looked up
// once: limits() is on the path of every frame and every put.
const LIMITS: Limits = isolateGlobal("limits", () => ({ ...DEFAULTS }));

/** This isolate's limits. */
export function limits(): Limits {
  return LIMITS;
}

/** Changes some limits (tests); returns the function that puts them back. */
export function setLimits(changes: Partial<Limits>): () => void {
  const l = limits();
  const saved = { ...l };
  Object.assign(l, changes);
  return () => Object.assign(l, saved);
}

/**
 * Checks that a message of `bytes` may be sent.
 *
 * @throws {RangeError} When it exceeds {@link Limits.message}.
 */
export function checkMessageSize(bytes: number): void {
  const max = limits().message;
  if (bytes > max) {
    throw new RangeError(
      `Cannot send a message of ${bytes} bytes: it exceeds the limit of ${max} bytes per message`,
    );
  }
}
