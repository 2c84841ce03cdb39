/**
 * Sandboxes: what a child with narrowed permissions can reach. It never
 * holds its tree's key: it gets a key derived for it alone (`c:<random>`,
 * see `transport/keys.ts`), which its hosts derive again from their own,
 * and grants, one per object it was given and role it was given it in:
 * HMAC-SHA256 of the host's key, its key id, the object's id and the role.
 * A connection made with such a key reaches only the objects it holds a
 * grant for, in those roles (a pipe's end 1 cannot write as end 0), and
 * nothing else the hub serves: no other object, no child's ticket, no
 * manager's registry beyond counting its own references.
 *
 * A process that holds its tree's key mints grants for its own hub, for the
 * hosts it reaches with their own key (a manager with a key of its own),
 * and for the other hosts of its tree; a sandboxed process mints grants for
 * its own hub only.
 *
 * @module
 */

import { isolateGlobal, state } from "../base/state.ts";
import { type Address, addressToString } from "../transport/address.ts";
import { keyForId } from "../transport/keys.ts";
import { toHex } from "../base/hex.ts";
import type { Descriptor } from "./descriptor.ts";
import { hubAddress, hubKey } from "./hub.ts";
import { configuredKey, type LaunchKey, launchKeys, useLaunchKeys } from "./host_keys.ts";
import type { Grant } from "./messages.ts";
import { ANY_ROLE, grantToken } from "./sandbox.ts";

export type { Grant };

/** What a sandboxed child gets for one host: its key there, and its grants. */
export interface Access extends LaunchKey {
  /** The grants for objects of that host. */
  grants: Grant[];
}

/**
 * The key the host at `address` derives its sandboxes' keys and grants
 * from, as far as this process knows it: its own hub's, a configured
 * host's, or (holding the tree's key) the tree's. Undefined when this
 * process cannot mint for that host.
 */
function baseKeyOf(address: Address): Uint8Array | undefined {
  const own = hubAddress();
  if (own && addressToString(own) === addressToString(address)) return hubKey();
  return configuredKey(address) ?? (state().kid === "" ? state().authkey : undefined);
}

/** The roles a handle is given in: its object's, and its manager's registry's. */
function rolesOf(d: Descriptor): [string, string][] {
  const own: [string, string] = d.kind === "pipe"
    ? [d.id, `end:${d.extra?.end}`]
    : [d.id, ANY_ROLE];
  return d.managed ? [own, [d.managed.registry, "refs"]] : [own];
}

/**
 * What sandbox `kid` needs to use the handles `ds`: per host, its derived
 * key and a grant per object and role. Hosts this process cannot mint for
 * are left out (their handles fail there, "not granted").
 */
export function accessFor(ds: Descriptor[], kid: string): Access[] | undefined {
  const out = new Map<string, Access>();
  for (const d of ds) {
    const base = baseKeyOf(d.address);
    if (!base) continue;
    const at = addressToString(d.address);
    let a = out.get(at);
    if (!a) {
      out.set(at, a = { address: at, key: toHex(keyForId(base, kid)!), kid, grants: [] });
    }
    for (const [o, role] of rolesOf(d)) {
      a.grants.push([o, role, toHex(grantToken(base, kid, o, role))]);
    }
  }
  return out.size > 0 ? [...out.values()] : undefined;
}

/**
 * What a child gets with its launch for the hosts of the handles `ds`:
 * grants when it is sandboxed (`kid`), else the keys of the hosts with keys
 * of their own.
 */
export function launchAccess(ds: Descriptor[], kid: string | undefined): LaunchKey[] | undefined {
  return kid ? accessFor(ds, kid) : launchKeys(ds.map((d) => d.address));
}

function pending(): Map<string, Grant[]> {
  return isolateGlobal("grants", () => (new Map<string, Grant[]>()));
}

/** The grants this process holds for the host at `address` (sent when it attaches). */
export function grantsFor(address: Address): Grant[] {
  return pending().get(addressToString(address)) ?? [];
}

/** Listeners told of grants that arrive for a host already connected. */
function grantListeners(): Set<(address: string, grants: Grant[]) => void> {
  return isolateGlobal("grantListeners", () => new Set());
}

/** Calls `fn` with each host's new grants (a connection sends them on). */
export function onGrants(fn: (address: string, grants: Grant[]) => void): void {
  grantListeners().add(fn);
}

/**
 * Takes in what a launch (or a pool task from this worker's pool) gave:
 * keys, and the grants that come with them.
 *
 * @throws {TypeError} When it is malformed.
 */
export function useAccess(access: unknown): void {
  if (access === undefined) return;
  useLaunchKeys(access);
  for (const a of access as Access[]) {
    if (a.grants === undefined) continue;
    const ok = Array.isArray(a.grants) &&
      a.grants.every((g) =>
        Array.isArray(g) && g.length === 3 && g.every((x) => typeof x === "string")
      );
    if (!ok) throw new TypeError("Cannot start: malformed grants");
    const held = pending().get(a.address) ?? [];
    pending().set(a.address, [...held, ...a.grants]);
    for (const fn of grantListeners()) fn(a.address, a.grants);
  }
}
