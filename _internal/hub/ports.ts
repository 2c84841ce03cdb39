/**
 * The object protocol over message ports. A program that Deno does not let
 * listen (run with `--allow-read` alone) has a hub with no socket: it
 * serves its worker children (threads of this process, with this process's
 * permissions and key) over ports of their own instead. A child asks its
 * parent for one over its launch port (`{op: "connect", host, port}`, the
 * port transferred); the parent serves it when the host is its own hub, or
 * passes it on to its own parent when the host is an ancestor's. On the
 * port, the protocol is the socket's: the same first message, calls,
 * replies and pushes, so validation and flow control stay in one place
 * (`server.ts`, `client.ts`).
 *
 * Only children whose permissions are not narrowed get routes: a sandboxed
 * child holds a key of its own and reaches what it was given over a socket
 * (`grants.ts`), never over a port served as the tree's.
 *
 * @module
 */

import { ProcessError } from "../base/errors.ts";
import { state } from "../base/state.ts";
import { addressToString } from "../transport/address.ts";
import { type Channel, type MessagePortLike, PortChannel } from "../transport/channel.ts";
import { BytesMessage } from "../wire/codec.ts";
import { hubAddress, servePort } from "./hub.ts";

/** A `node:worker_threads` MessagePort, as far as this uses it. */
interface NodePort extends MessagePortLike {
  start?(): void;
  close?(): void;
  ref?(): void;
  unref?(): void;
}

/** The key a bytes message's header travels under on a port (structured clone keeps no class). */
const BYTES = "\u0000bytes";

function fromPort(data: unknown): unknown {
  if (typeof data === "object" && data !== null && BYTES in data) {
    const m = data as Record<string, unknown>;
    if (m.bytes instanceof Uint8Array) return new BytesMessage(m[BYTES], m.bytes);
  }
  return data;
}

/** A connection of the object protocol over a message port. */
export class PortConnChannel extends PortChannel {
  #port: NodePort;

  /** Takes over `port`: what arrives on it is this channel's. */
  constructor(port: NodePort) {
    super(port, fromPort);
    this.#port = port;
    port.start?.();
  }

  override send(msg: unknown, transfer?: Transferable[]): Promise<void> {
    const m = msg instanceof BytesMessage ? { [BYTES]: msg.header, bytes: msg.bytes } : msg;
    return super.send(m, transfer);
  }

  override close(): void {
    super.close();
    this.#port.close?.();
  }

  override unref(): void {
    this.#port.unref?.();
  }

  override ref(): void {
    this.#port.ref?.();
  }
}

/** The path a hub with no socket is named by (see `hub.ts` `portName`). */
const PORT_NAME = "unix:/nonexistent/denomp-port-";

/**
 * A channel to the hub at `host` over this worker child's launch port, if
 * its launch said that hub is reached so; undefined otherwise (dial it).
 *
 * @throws {ProcessError} When the host is a hub with no socket that this
 * process has no route to, or when the route refuses.
 */
export async function openPort(host: string): Promise<Channel | undefined> {
  const s = state();
  if (!s.portHosts?.includes(host) || !s.sendUp) {
    if (!host.startsWith(PORT_NAME)) return undefined;
    throw new ProcessError(
      `Cannot reach the process that hosts this object: it has no socket (Deno did not let it ` +
        `listen: run it with --allow-read --allow-write --allow-net), and only its worker ` +
        `children reach it, over message ports`,
    );
  }
  const { MessageChannel } = await import("node:worker_threads");
  const { port1, port2 } = new MessageChannel();
  const channel = new PortConnChannel(port1 as unknown as NodePort);
  s.sendUp({ op: "connect", host, port: port2 }, [port2 as unknown as Transferable]);
  const answer = await channel.recv() as { accepted?: true; refused?: string };
  if (answer?.accepted !== true) {
    channel.close();
    throw new ProcessError(
      `Cannot reach the process that hosts this object at ${host}: ${answer?.refused ?? "refused"}`,
    );
  }
  return channel;
}

/**
 * A worker child's request for a port to a hub (`{op: "connect"}` on its
 * launch port): served here when the hub is this process's, passed up when
 * it is an ancestor's this process reaches so, refused otherwise. Only for
 * children whose permissions are not narrowed (the caller's check).
 */
export function acceptPort(m: { host?: unknown; port?: unknown }): void {
  const port = m.port as NodePort | undefined;
  if (typeof port?.postMessage !== "function") return;
  const host = typeof m.host === "string" ? m.host : "";
  const own = hubAddress();
  if (own && addressToString(own) === host) {
    const channel = new PortConnChannel(port);
    channel.send({ accepted: true }).catch(() => {});
    void servePort(channel);
    return;
  }
  const s = state();
  if (s.portHosts?.includes(host) && s.sendUp) {
    s.sendUp({ op: "connect", host, port }, [port as unknown as Transferable]);
    return;
  }
  try {
    port.postMessage({ refused: `no route to ${host || "(no host)"}` });
    port.close?.();
  } catch { /* the child is gone */ }
}

/** Whether a message on a worker child's launch port asks for a port to a hub. */
export function isPortRequest(
  data: unknown,
): data is { op: "connect"; host: unknown; port: unknown } {
  return typeof data === "object" && data !== null && (data as { op?: unknown }).op === "connect";
}

/** The hosts a new worker child reaches over ports: this process's routes, and its own hub if it has no socket. */
export function routesForChild(): string[] | undefined {
  const own = hubAddress();
  const out = [...state().portHosts ?? []];
  if (own && addressToString(own).startsWith(PORT_NAME)) out.push(addressToString(own));
  return out.length > 0 ? out : undefined;
}
