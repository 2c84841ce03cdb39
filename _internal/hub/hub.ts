/**
 * The hub: this process's lazily opened listener. Children connect back to it
 * to fetch their task; objects this process hosts (queues, locks…) are
 * served from it. It is open only while something needs it (a child still
 * starting, a hosted object) and closes itself, removing its socket
 * directory, when the last user lets go.
 *
 * Every connection is authenticated before anything else is read; a peer
 * that fails, stalls or sends garbage loses its own connection only.
 *
 * @module
 */

import { logger } from "../base/log.ts";
import { type Handler, hub, type HubConfig } from "./hub_state.ts";
import { type Channel, SocketChannel } from "../transport/channel.ts";
import { type AuthedConn, serveListener } from "../transport/sockets.ts";
import { type BoundListener, listen, listenNeeds } from "../transport/listen.ts";
import type { Address } from "../transport/address.ts";
import { missingNeeds, type Need, requirePermissions } from "../base/permits.ts";
import { state } from "../base/state.ts";
import { keyForId } from "../transport/keys.ts";

export { hubAddress } from "./hub_state.ts";
export type { Handler, HubConfig } from "./hub_state.ts";

/**
 * Sets where the hub listens and the key it asks for (a manager serving on
 * TCP with its own key). Takes effect the next time the hub opens.
 */
export function configureHub(config: HubConfig): void {
  hub().config = config;
}

/** Registers the handler for connections whose first message has `op`. */
export function onHubMessage(op: string, handler: Handler): void {
  hub().handlers.set(op, handler);
}

/**
 * Holds the hub open and resolves its address; call the returned release
 * function when done. The hub closes when its last user releases it.
 */
export function acquireHub(): Promise<{ address: Address; release: () => void }> {
  const h = hub();
  try {
    if (!h.bound) h.bound = openHub();
  } catch (err) {
    return Promise.reject(err);
  }
  h.users++;
  let released = false;
  const release = () => {
    if (released) return;
    released = true;
    if (--h.users === 0) closeHub();
  };
  return Promise.resolve({ address: h.bound.address, release });
}

/** The key this process's hub asks for (and derives its sandboxes' keys from). */
export function hubKey(): Uint8Array {
  return hub().config?.authkey ?? state().authkey;
}

/** What opening the hub would need from Deno: nothing once it is open. */
export function hubNeeds(): Need[] {
  const h = hub();
  if (h.bound) return [];
  return listenNeeds(h.config?.transport ?? state().transport, h.config?.hostname);
}

/**
 * The name of a hub that Deno's permissions do not let listen (a program
 * run with `--allow-read` alone): it serves its worker children over their
 * launch ports instead (`ports.ts`), and descriptors for them name it by
 * this address, which no socket is bound to. Undefined when the hub can
 * listen (or already does, or was configured to): then worker children
 * dial its socket as every other process does.
 */
export function portName(): Address | undefined {
  const h = hub();
  if (h.bound || h.config) return undefined;
  if (h.portName) return h.portName;
  if (missingNeeds(listenNeeds(state().transport)).length === 0) return undefined;
  const id = [...crypto.getRandomValues(new Uint8Array(8))]
    .map((b) => b.toString(16).padStart(2, "0")).join("");
  h.portName = { transport: "unix", path: `/nonexistent/denomp-port-${Deno.pid}-${id}` };
  return h.portName;
}

/**
 * Serves a connection that reached this hub over a message port (a worker
 * child's, see `ports.ts`): as an authenticated socket connection with the
 * tree's key, its first message naming its handler.
 */
export function servePort(channel: Channel): Promise<void> {
  return serveChannel(channel, "");
}

function openHub(): BoundListener {
  const c = hub().config;
  const kind = c?.transport ?? state().transport;
  requirePermissions(
    "open this process's hub (the socket its children and shared objects reach it on)",
    listenNeeds(kind, c?.hostname),
  );
  const bound = listen(kind, c?.hostname, c?.port, c?.dir);
  bound.listener.unref();
  serveListener(bound, {
    // This hub's key, or a sandboxed child's key derived from it.
    keyFor: (kid) => keyForId(hubKey(), kid),
    authed: (authed) => void serve(authed),
  });
  // A hub still held at exit (a lock shared and never disposed) must not
  // leave its socket directory behind.
  globalThis.addEventListener("unload", closeHubAtExit);
  return bound;
}

function closeHubAtExit(): void {
  hub().bound?.close();
}

function closeHub(): void {
  const h = hub();
  const bound = h.bound;
  h.bound = undefined;
  bound?.close();
}

/** What a sandboxed child's connection may ask for: its own task, and what it was given. */
const SANDBOX_OPS: ReadonlySet<unknown> = new Set(["hello", "attach"]);

/**
 * Hands an authenticated connection to the handler its first message names
 * (a plain object with a known `op`); anything else closes it.
 */
function serve(authed: AuthedConn): Promise<void> {
  return serveChannel(new SocketChannel(authed), authed.kid);
}

async function serveChannel(channel: Channel, kid: string): Promise<void> {
  const first = await channel.recv();
  const op = isPlainObject(first) ? first.op : undefined;
  const allowed = kid === "" || SANDBOX_OPS.has(op);
  const handler = allowed && typeof op === "string" ? hub().handlers.get(op) : undefined;
  const log = logger();
  if (log.isEnabledFor("debug")) log.debug(`accepted an authenticated connection (${String(op)})`);
  try {
    if (handler) return handler(channel, first as Record<string, unknown>, kid);
  } catch { /* a handler that cannot take it: as if unknown */ }
  channel.close();
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== "object" || v === null) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}
