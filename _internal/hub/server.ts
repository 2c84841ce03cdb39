/**
 * The host side of the object server: every connection that says "attach"
 * to this process's hub is served until it closes, each call dispatched to
 * the hosted object it names. A connection that closes, or whose process is
 * gone ({@link dropPeers}), has its calls aborted and its objects detached.
 *
 * Pushes to a worker child of this process go over the worker's port
 * instead of its socket ({@link registerLocalWorker}).
 *
 * @module
 */

import { raceTimer } from "../base/async.ts";
import { isolateGlobal } from "../base/state.ts";
import { type Channel, CLOSED, type MessagePortLike } from "../transport/channel.ts";
import { ProcessError } from "../base/errors.ts";
import { hubAddress, onHubMessage } from "./hub.ts";
import type { CallMessage, Hosted, Peer } from "./protocol.ts";
import { registry } from "./registry.ts";
import { state } from "../base/state.ts";
import { addressToString } from "../transport/address.ts";
import { BytesMessage } from "../wire/codec.ts";
import { errorToData } from "../wire/error_data.ts";

// The host side: a connection that says "attach" is served until it closes.
// A daemonic peer does not keep this process alive (its process handle does
// not either): a pool's idle workers let a program end.
onHubMessage("attach", (channel, first) => {
  if (first.daemon === true) channel.unref();
  serveConnection(channel, String(first.ident ?? ""));
});

// In a worker child, pushes from the parent arrive on its port.
state().portPush = (m) => registry().clients.get(m.host)?.pushed(m.p, m.ev, m.a);

/** Ports of this process's running worker children, by ident. */
function localWorkers(): Map<string, MessagePortLike> {
  return isolateGlobal("localWorkers", () => (new Map<string, MessagePortLike>()));
}

/**
 * Registers a worker child's port: pushes to it (pipe data) then go by
 * `postMessage`, one structured-clone copy or a transfer, instead of
 * through the socket. Returns the unregister function.
 */
export function registerLocalWorker(ident: string, port: MessagePortLike): () => void {
  localWorkers().set(ident, port);
  return () => localWorkers().delete(ident);
}

/** A peer that is a worker of this process: pushes go over its port, in order. */
function portPeer(id: number, port: MessagePortLike): Peer {
  const host = addressToString(hubAddress()!);
  const push = (p: string, ev: string, a: unknown[], transfer?: Transferable[]) => {
    try {
      port.postMessage({ op: "push", host, p, ev, a }, transfer ?? []);
    } catch { /* the worker is gone */ }
  };
  return {
    id,
    push,
    pushBytes(p, ev, a, bytes) {
      push(p, ev, [...a, bytes]);
      return Promise.resolve();
    },
  };
}

/** A peer across a socket: pushes are posted on its connection. */
function socketPeer(id: number, channel: Channel): Peer {
  return {
    id,
    push(objectId, event, args) {
      channel.post({ p: objectId, ev: event, a: args }).catch(() => {});
    },
    pushBytes(objectId, event, args, bytes) {
      return channel.send(new BytesMessage({ p: objectId, ev: event, a: args }, bytes)).catch(
        () => {},
      );
    },
  };
}

/** The connections being served, by channel. */
function served(): Map<Channel, Connection> {
  return isolateGlobal("served", () => (new Map<Channel, Connection>()));
}

/**
 * Closes the connections of a process or worker that is gone, and of its
 * descendants (idents extend their parent's). A terminated worker's socket
 * can outlive it for a while; this detaches it at once, so what it held
 * (leased queue items, locks) goes back now.
 */
export function dropPeers(ident: string): void {
  for (const [channel, s] of served()) {
    if (isSelfOrDescendant(s.ident, ident)) {
      // Synchronously: an item put right after the kill must not go to it.
      s.teardown();
      channel.close();
    }
  }
}

/** Closes every connection this process serves (a manager shutting down). */
export function dropAllPeers(): void {
  for (const [channel, s] of served()) {
    s.teardown();
    channel.close();
  }
}

function isSelfOrDescendant(id: string, ident: string): boolean {
  return id === ident || id.startsWith(`${ident}:`) || id.startsWith(`${ident}/`);
}

function closedWaiters(): Set<() => void> {
  return isolateGlobal("closedWaiters", () => (new Set<() => void>()));
}

/**
 * Resolves once the connections of an exited child (and its descendants)
 * have been read to their end and closed, so that what it sent is not lost
 * and nothing of it outlives its join; after `ms`, they are dropped.
 */
export function peersClosed(ident: string, ms: number): Promise<void> {
  const open = () => [...served().values()].some((s) => isSelfOrDescendant(s.ident, ident));
  if (!open()) return Promise.resolve();
  let check!: () => void;
  const closed = new Promise<void>((resolve) => {
    check = () => open() || resolve();
    closedWaiters().add(check);
  });
  return raceTimer(closed, ms, () => dropPeers(ident)).finally(() => closedWaiters().delete(check));
}

function serveConnection(channel: Channel, ident: string): Promise<void> {
  return new Connection(channel, ident).serve();
}

/** One client's connection: its calls in flight and the objects it touched. */
class Connection {
  readonly ident: string;
  #channel: Channel;
  #peer: Peer;
  #calls = new Map<number, AbortController>();
  #touched = new Set<Hosted>();
  #tornDown = false;

  constructor(channel: Channel, ident: string) {
    this.ident = ident;
    this.#channel = channel;
    const id = registry().nextPeer++;
    const port = localWorkers().get(ident);
    this.#peer = port ? portPeer(id, port) : socketPeer(id, channel);
  }

  /** Dispatches each message until the connection closes or is dropped. */
  async serve(): Promise<void> {
    served().set(this.#channel, this);
    while (!this.#tornDown) {
      const msg = await this.#channel.recv();
      if (msg === CLOSED) break;
      this.#dispatch(msg as CallMessage | BytesMessage);
    }
    this.teardown();
  }

  /** Aborts the connection's calls and detaches its objects; idempotent. */
  teardown(): void {
    if (this.#tornDown) return;
    this.#tornDown = true;
    served().delete(this.#channel);
    for (const check of [...closedWaiters()]) check();
    const gone = new DOMException("The caller's connection closed", "AbortError");
    for (const ctl of this.#calls.values()) ctl.abort(gone);
    for (const obj of this.#touched) obj.detach?.(this.#peer);
  }

  #dispatch(msg: CallMessage | BytesMessage): void {
    let m: CallMessage;
    if (msg instanceof BytesMessage) {
      m = msg.header as CallMessage;
      m.a = [...(m.a ?? []), msg.bytes];
    } else {
      m = msg;
    }
    if (m.b) return m.b.forEach((b) => this.#dispatch(b));
    if (m.c !== undefined) {
      // The call still replies (its value, or the abort): the caller treats
      // a value as an orphan and can give it back.
      this.#calls.get(m.c)?.abort(new DOMException("Call cancelled by the caller", "AbortError"));
      return;
    }
    this.#call(m);
  }

  #call(m: CallMessage): void {
    const entry = registry().objects.get(String(m.o));
    const id = m.r;
    if (!entry) {
      if (id !== undefined) {
        this.#calls.set(id, NEVER_CONTROLLER);
        this.#reply(id, new ProcessError(`No object '${m.o}' here: it was released`), true);
      }
      return;
    }
    this.#touched.add(entry.obj);
    if (id === undefined) {
      // Fire and forget: no reply, no cancellation, errors dropped.
      try {
        const v = entry.obj.call(String(m.m), m.a ?? [], this.#peer, NEVER);
        if (v instanceof Promise) v.catch(() => {});
      } catch { /* the caller asked for no reply */ }
      return;
    }
    const ctl = new AbortController();
    this.#calls.set(id, ctl);
    try {
      const v = entry.obj.call(String(m.m), m.a ?? [], this.#peer, ctl.signal);
      if (v instanceof Promise) {
        v.then((v) => this.#reply(id, v, false), (e) => this.#reply(id, e, true));
      } else this.#reply(id, v, false);
    } catch (err) {
      this.#reply(id, err, true);
    }
  }

  #reply(id: number, v: unknown, failed: boolean): void {
    if (!this.#calls.delete(id)) return;
    // No `v` for undefined: `{r}` takes the JSON fast path, `{r, v: undefined}` would not.
    const msg = failed ? { r: id, e: errorToData(v) } : v === undefined ? { r: id } : { r: id, v };
    // A result that cannot be cloned fails that call only.
    this.#channel.post(msg).catch((err) =>
      this.#channel.post({ r: id, e: errorToData(err) }).catch(() => {})
    );
  }
}

const NEVER = new AbortController().signal;
const NEVER_CONTROLLER = new AbortController();
