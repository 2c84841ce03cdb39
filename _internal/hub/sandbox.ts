/**
 * The host's side of a sandbox (see `grants.ts`): a connection made with a
 * key derived for one sandboxed child reaches only the objects it holds a
 * grant for, in those roles; its ident is the one its launch registered;
 * its sessions are its own.
 *
 * @module
 */

import { isolateGlobal } from "../base/state.ts";
import { deriveKey, equalBytes } from "../transport/keys.ts";
import { fromHex } from "../base/hex.ts";
import { hubKey } from "./hub.ts";
import { type Grant, ProtocolError } from "./messages.ts";

/** The role a call needs when its object names none: any grant on that object. */
export const ANY_ROLE = "*";

/** The proof that sandbox `kid` holds object `objectId` in `role`, under host key `base`. */
export function grantToken(
  base: Uint8Array,
  kid: string,
  objectId: string,
  role: string,
): Uint8Array {
  return deriveKey(base, "mp-grant", kid, objectId, role);
}

function idents(): Map<string, Set<string>> {
  return isolateGlobal("sandboxIdents", () => new Map<string, Set<string>>());
}

/**
 * Records that the child with ident `ident` runs in sandbox `kid` (a
 * launch does, before the child gets its task); returns the function that
 * forgets it.
 */
export function registerSandbox(kid: string, ident: string): () => void {
  let set = idents().get(kid);
  if (!set) idents().set(kid, set = new Set());
  set.add(ident);
  return () => {
    set.delete(ident);
    if (set.size === 0 && idents().get(kid) === set) idents().delete(kid);
  };
}

/** What one sandboxed connection may reach. */
export class Sandbox {
  readonly kid: string;
  #grants = new Map<string, Set<string>>();

  /**
   * The sandbox of a connection made with key id `kid`, with the grants it
   * attached with.
   *
   * @throws {ProtocolError} When a grant's proof is wrong.
   */
  constructor(kid: string, grants: Grant[]) {
    this.kid = kid;
    this.add(grants);
  }

  /**
   * Adds grants, each checked against this hub's key.
   *
   * @throws {ProtocolError} When a grant's proof is wrong.
   */
  add(grants: Grant[]): void {
    const base = hubKey();
    for (const [o, role, tok] of grants) {
      const bytes = fromHex(tok);
      if (!bytes || !equalBytes(bytes, grantToken(base, this.kid, o, role))) {
        throw new ProtocolError("Malformed message: a grant does not check out");
      }
      let roles = this.#grants.get(o);
      if (!roles) this.#grants.set(o, roles = new Set());
      roles.add(role);
    }
  }

  /** Whether object `o` may be called in `role` ({@link ANY_ROLE}: in any role it was given). */
  may(o: string, role: string = ANY_ROLE): boolean {
    const roles = this.#grants.get(o);
    return !!roles && (role === ANY_ROLE || roles.has(role) || roles.has(ANY_ROLE));
  }

  /**
   * The ident this connection stands for: the one it claims if its launch
   * registered that ident for this sandbox, else the sandbox's own id.
   */
  identOf(claimed: string): string {
    const set = idents().get(this.kid);
    return set?.has(claimed) ? claimed : this.kid;
  }
}
