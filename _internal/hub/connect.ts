/**
 * Reaching a host: connecting with a few attempts, with the key the host
 * is proven with (`host_keys.ts`).
 *
 * @module
 */

import { logger } from "../base/log.ts";
import { delay } from "../base/async.ts";
import { AuthenticationError } from "../base/errors.ts";
import { type Address, addressToString } from "../transport/address.ts";
import { hostAccess } from "./host_keys.ts";
import { type AuthedConn, connectAuthed } from "../transport/sockets.ts";
import { limits } from "../wire/limits.ts";

/**
 * Connects and authenticates, trying `limits().connectAttempts` times in
 * all: a host that sheds connections (too many waiting for the challenge,
 * or out of file descriptors for a moment) is tried again shortly. A wrong
 * key, or a Unix socket that is gone, fails at once.
 */
export async function connectRetrying(address: Address): Promise<AuthedConn> {
  for (let attempt = 1;; attempt++) {
    try {
      const authed = await connectAuthed(address, hostAccess(address), 10_000);
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
