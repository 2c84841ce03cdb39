/**
 * Who this isolate is to the hosts it reaches, and what it proves to each:
 * its session id (sent when a connection attaches) and the key of each
 * host with a key of its own. Apart from connecting (`connect.ts`): a
 * program sets and forgets keys (a manager's) before anything connects.
 *
 * @module
 */

import { isolateGlobal, state } from "../base/state.ts";
import { type Address, addressToString, parseAddress } from "../transport/address.ts";
import { fromHex, toHex } from "../base/hex.ts";

/** This isolate's session id: random, sent when a connection attaches. */
export function sessionId(): string {
  return isolateGlobal("session", () => {
    const b = crypto.getRandomValues(new Uint8Array(16));
    return [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
  });
}

/** How this process proves itself to one host. */
export interface HostAccess {
  /** The key. */
  key: Uint8Array;
  /** Its id, as the host knows it (`""`: the host's own key). */
  kid: string;
  /** Whether the handshake is bound to the address dialled (see `transport/auth.ts`). */
  bind: boolean;
}

function hostKeys(): Map<string, HostAccess> {
  return isolateGlobal("hostKeys", () => (new Map<string, HostAccess>()));
}

/**
 * Sets the key this process proves to the host at `address`: an address
 * its user configured (a manager it started or connected to with a key of
 * its own), or one its launch named. Only such addresses get a key other
 * than this process tree's; keys never come from data.
 */
export function setHostAuthkey(
  address: Address,
  authkey: Uint8Array,
  kid = "",
  bind = false,
): void {
  hostKeys().set(addressToString(address), { key: authkey, kid, bind });
}

/** The key of a host this process reaches with that host's own key (configured), if any. */
export function configuredKey(address: Address): Uint8Array | undefined {
  const a = hostKeys().get(addressToString(address));
  return a && a.kid === "" ? a.key : undefined;
}

/** Forgets the key of a host that is gone. */
export function forgetHostAuthkey(address: Address): void {
  hostKeys().delete(addressToString(address));
}

/**
 * How this process proves itself to the host at `address`: the key set for
 * it, else this process tree's, with the handshake bound to the address (a
 * host found in data: a relay to another host gets nothing).
 */
export function hostAccess(address: Address): HostAccess {
  const s = state();
  return hostKeys().get(addressToString(address)) ?? { key: s.authkey, kid: s.kid, bind: true };
}

/** The key this process proves to the host at `address`. */
export function hostAuthkey(address: Address): Uint8Array {
  return hostAccess(address).key;
}

/** A host's key as a child receives it with its launch (and a pool task with its task). */
export interface LaunchKey {
  /** The host's address, as `addressToString` writes it. */
  address: string;
  /** The key, hex. */
  key: string;
  /** Its id, as the host knows it. */
  kid?: string;
}

/**
 * The keys a receiver needs for the hosts at `addresses` that this process
 * reaches with keys of their own (configured: a manager with its own key):
 * they go with a launch, never inside a descriptor. Undefined when none.
 */
export function launchKeys(addresses: Iterable<Address>): LaunchKey[] | undefined {
  const out = new Map<string, LaunchKey>();
  for (const a of addresses) {
    const s = addressToString(a);
    const access = hostKeys().get(s);
    if (!access || out.has(s)) continue;
    out.set(s, { address: s, key: toHex(access.key), ...(access.kid ? { kid: access.kid } : {}) });
  }
  return out.size > 0 ? [...out.values()] : undefined;
}

/**
 * Sets the keys a launch (or a pool task, from this worker's pool) gave.
 *
 * @throws {TypeError} When they are malformed.
 */
export function useLaunchKeys(keys: unknown): void {
  if (keys === undefined) return;
  if (!Array.isArray(keys)) throw new TypeError("Cannot start: malformed launch keys");
  for (const k of keys as LaunchKey[]) {
    const key = fromHex(k?.key);
    if (
      !key || typeof k.address !== "string" || (k.kid !== undefined && typeof k.kid !== "string")
    ) {
      throw new TypeError("Cannot start: malformed launch keys");
    }
    // The address is the host's own (from its descriptor): the handshake can be bound to it.
    setHostAuthkey(parseAddress(k.address), key, k.kid ?? "", true);
  }
}
