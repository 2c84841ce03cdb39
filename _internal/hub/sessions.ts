/**
 * Client sessions, as the object server keeps them. A connection attaches
 * with its isolate's session id (or is a session of its own); objects that
 * hold things by session (a manager's references: `Hosted.endSession`) keep
 * them while the session lives: through a lost connection, for
 * `limits().sessionGraceMs`, until a connection of the same session comes
 * back. A session ends at once when its client says so (`{end: true}`), or
 * when the process it came from is known to be gone.
 *
 * @module
 */

import { isolateGlobal } from "../base/state.ts";
import { limits } from "../wire/limits.ts";
import type { Hosted } from "./protocol.ts";

/** Whether ident `id` is `ident` or one of its descendants (idents extend their parent's). */
export function isSelfOrDescendant(id: string, ident: string): boolean {
  return id === ident || id.startsWith(`${ident}:`) || id.startsWith(`${ident}/`);
}

/** A client session: its live connections, and the objects that hold things by it. */
export interface Session {
  readonly id: string;
  /** The idents its connections came from. */
  idents: Set<string>;
  conns: number;
  holders: Set<Hosted>;
  timer?: ReturnType<typeof setTimeout>;
}

export function sessions(): Map<string, Session> {
  return isolateGlobal("sessions", () => (new Map<string, Session>()));
}

export function openSession(id: string, ident: string): Session {
  let s = sessions().get(id);
  if (!s) sessions().set(id, s = { id, idents: new Set(), conns: 0, holders: new Set() });
  clearTimeout(s.timer);
  s.timer = undefined;
  s.idents.add(ident);
  s.conns++;
  return s;
}

/** Ends a session now: the objects that hold things by it give them back. */
export function endSession(s: Session): void {
  clearTimeout(s.timer);
  if (sessions().get(s.id) === s) sessions().delete(s.id);
  for (const obj of s.holders) {
    try {
      obj.endSession?.(s.id);
    } catch { /* the others still get theirs back */ }
  }
}

/**
 * A connection of `s` closed. Ended by its client, or the last of a session
 * nobody can resume: the session ends now. Lost: it ends after the grace
 * period, unless a connection of the same session comes back first.
 */
export function leaveSession(s: Session, ended: boolean): void {
  if (--s.conns > 0) return;
  // Nothing here holds anything by it: nothing to keep.
  if (ended || s.holders.size === 0) return endSession(s);
  s.timer = setTimeout(() => endSession(s), limits().sessionGraceMs);
  // A host does not stay alive for a client that may come back.
  Deno.unrefTimer(s.timer);
}

/**
 * Ends, now, the sessions left without a connection by a process that is
 * gone (and its descendants): nothing can resume them.
 */
export function endSessionsOf(ident: string): void {
  for (const s of [...sessions().values()]) {
    if (s.conns === 0 && [...s.idents].every((i) => isSelfOrDescendant(i, ident))) endSession(s);
  }
}

/**
 * Ends every session that has no connection now, without waiting for the
 * grace period (tests; a manager shutting down ends them all).
 */
export function expireSessions(): void {
  for (const s of [...sessions().values()]) if (s.conns === 0) endSession(s);
}
