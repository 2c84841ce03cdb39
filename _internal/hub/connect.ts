/**
 * Reaching a host: this isolate's session id (sent when a connection
 * attaches), the key each host is proven with, and connecting with a few
 * attempts.
 *
 * @module
 */

import { logger } from "../base/log.ts";
import { delay } from "../base/async.ts";
import { AuthenticationError } from "../base/errors.ts";
import { isolateGlobal, state } from "../base/state.ts";
import { type Address, addressToString } from "../transport/address.ts";
import { type AuthedConn, connectAuthed } from "../transport/sockets.ts";
import { limits } from "../wire/limits.ts";

/** This isolate's session id: random, sent when a connection attaches. */
export function sessionId(): string {
  return isolateGlobal("session", () => {
    const b = crypto.getRandomValues(new Uint8Array(16));
    return [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
  });
}

/**
 * Connects and authenticates, trying `limits().connectAttempts` times in
 * all: a host that sheds connections (too many waiting for the challenge,
 * or out of file descriptors for a moment) is tried again shortly. A wrong
 * key, or a Unix socket that is gone, fails at once.
 */
export async function connectRetrying(address: Address): Promise<AuthedConn> {
  for (let attempt = 1;; attempt++) {
    try {
      const authed = await connectAuthed(address, hostAuthkey(address), 10_000);
      const log = logger();
      if (log.isEnabledFor("debug")) log.debug(`connected to ${addressToString(address)}`);
      return authed;
    } catch (err) {
      const final = err instanceof AuthenticationError && !(err.cause instanceof Error) ||
        err instanceof Deno.errors.NotFound || attempt >= limits().connectAttempts;
      if (final) throw err;
      await delay(50 * 4 ** (attempt - 1));
    }
  }
}

function hostKeys(): Map<string, Uint8Array> {
  return isolateGlobal("hostKeys", () => (new Map<string, Uint8Array>()));
}

/**
 * Sets the key this process proves to the host at `address` (a manager
 * started with its own authkey); other hosts get this process tree's.
 */
export function setHostAuthkey(address: Address, authkey: Uint8Array): void {
  hostKeys().set(addressToString(address), authkey);
}

/** Forgets the key of a host that is gone. */
export function forgetHostAuthkey(address: Address): void {
  hostKeys().delete(addressToString(address));
}

/** The key this process proves to the host at `address`. */
export function hostAuthkey(address: Address): Uint8Array {
  return hostKeys().get(addressToString(address)) ?? state().authkey;
}
