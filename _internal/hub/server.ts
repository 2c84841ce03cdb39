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
import type { Hosted, Peer } from "./protocol.ts";
import { type Attach, type Inbound, ProtocolError, readAttach, readInbound } from "./messages.ts";

/** A call, checked (see `messages.ts`). */
type Call = { r?: number; o: string; m: string; a?: unknown[] };
import {
  endSession,
  endSessionsOf,
  isSelfOrDescendant,
  leaveSession,
  openSession,
  type Session,
  sessions,
} from "./sessions.ts";
import { registry } from "./registry.ts";
import { state } from "../base/state.ts";
import { addressToString } from "../transport/address.ts";
import { BytesMessage } from "../wire/codec.ts";
import { errorToData } from "../wire/error_data.ts";

// The host side: a connection that says "attach" is served until it closes.
onHubMessage("attach", serveConnection);

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
function portPeer(id: number, session: string, port: MessagePortLike): Peer {
  const host = addressToString(hubAddress()!);
  const push = (p: string, ev: string, a: unknown[], transfer?: Transferable[]) => {
    try {
      port.postMessage({ op: "push", host, p, ev, a }, transfer ?? []);
    } catch { /* the worker is gone */ }
  };
  return {
    id,
    session,
    push,
    pushBytes(p, ev, a, bytes) {
      push(p, ev, [...a, bytes]);
      return Promise.resolve();
    },
  };
}

/** A peer across a socket: pushes are posted on its connection. */
function socketPeer(id: number, session: string, channel: Channel): Peer {
  return {
    id,
    session,
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
  endSessionsOf(ident);
}

/** Closes every connection this process serves, and ends every session (a manager shutting down). */
export function dropAllPeers(): void {
  for (const [channel, s] of served()) {
    s.teardown();
    channel.close();
  }
  for (const s of [...sessions().values()]) endSession(s);
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
  // The process is gone: no connection of its sessions can come back.
  if (!open()) return Promise.resolve(endSessionsOf(ident));
  let check!: () => void;
  const closed = new Promise<void>((resolve) => {
    check = () => open() || resolve();
    closedWaiters().add(check);
  });
  return raceTimer(closed, ms, () => dropPeers(ident)).finally(() => {
    closedWaiters().delete(check);
    endSessionsOf(ident);
  });
}

function serveConnection(channel: Channel, first: Record<string, unknown>): void {
  let attach: Attach;
  try {
    attach = readAttach(first);
  } catch {
    channel.close();
    return;
  }
  // A daemonic peer does not keep this process alive (its process handle does
  // not either): a pool's idle workers let a program end.
  if (attach.daemon) channel.unref();
  void new Connection(channel, attach).serve();
}

/** One client's connection: its calls in flight and the objects it touched. */
class Connection {
  readonly ident: string;
  #channel: Channel;
  #peer: Peer;
  #session: Session;
  #calls = new Map<number, AbortController>();
  /** Aborted when the connection goes: the signal of its calls that expect no reply. */
  #gone = new AbortController();
  #touched = new Set<Hosted>();
  #ended = false;
  #tornDown = false;
  #inbound: Inbound[] = [];

  constructor(channel: Channel, attach: Attach) {
    this.ident = attach.ident;
    this.#channel = channel;
    const id = registry().nextPeer++;
    // Without a session of its own, a connection is its own session.
    const session = attach.session ?? `#${id}`;
    this.#session = openSession(session, attach.ident);
    const port = localWorkers().get(attach.ident);
    this.#peer = port ? portPeer(id, session, port) : socketPeer(id, session, channel);
  }

  /** Dispatches each message until the connection closes, breaks the protocol, or is dropped. */
  async serve(): Promise<void> {
    served().set(this.#channel, this);
    while (!this.#tornDown) {
      const msg = await this.#channel.recv();
      if (msg === CLOSED) break;
      try {
        this.#dispatch(msg);
      } catch {
        // A malformed message (ProtocolError), or an object that threw
        // where it must not: this connection only is closed.
        this.#channel.close();
        break;
      }
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
    this.#gone.abort(gone);
    for (const obj of this.#touched) {
      try {
        obj.detach?.(this.#peer);
      } catch { /* the others still get theirs back */ }
    }
    leaveSession(this.#session, this.#ended);
  }

  #dispatch(msg: unknown): void {
    const inbound = this.#inbound;
    inbound.length = 0;
    // Every message of a batch is checked before any of it runs.
    readInbound(msg, inbound);
    for (const m of inbound) {
      if (m.c !== undefined) {
        // The call still replies (its value, or the abort): the caller
        // treats a value as an orphan and can give it back.
        this.#calls.get(m.c)?.abort(
          new DOMException("Call cancelled by the caller", "AbortError"),
        );
      } else if (m.end) this.#ended = true;
      else this.#call(m as Call);
    }
  }

  #call(m: Call): void {
    const entry = registry().objects.get(m.o);
    const id = m.r;
    if (id !== undefined && this.#calls.has(id)) {
      throw new ProtocolError(`Malformed message: request id ${id} is already in flight`);
    }
    if (!entry) {
      if (id !== undefined) {
        this.#calls.set(id, NEVER_CONTROLLER);
        this.#reply(id, new ProcessError(`No object '${m.o}' here: it was released`), true);
      }
      return;
    }
    this.#touch(entry.obj);
    if (id === undefined) {
      // Fire and forget: no reply, no cancellation, errors dropped; what
      // still waits when the connection goes is aborted then.
      try {
        const v = entry.obj.call(m.m, m.a ?? [], this.#peer, this.#gone.signal);
        if (v instanceof Promise) v.catch(() => {});
      } catch { /* the caller asked for no reply */ }
      return;
    }
    const ctl = new AbortController();
    this.#calls.set(id, ctl);
    try {
      const v = entry.obj.call(m.m, m.a ?? [], this.#peer, ctl.signal);
      if (v instanceof Promise) {
        v.then((v) => this.#reply(id, v, false), (e) => this.#reply(id, e, true));
      } else this.#reply(id, v, false);
    } catch (err) {
      this.#reply(id, err, true);
    }
  }

  #touch(obj: Hosted): void {
    if (this.#touched.has(obj)) return;
    this.#touched.add(obj);
    if (obj.endSession) this.#session.holders.add(obj);
  }

  #reply(id: number, v: unknown, failed: boolean): void {
    if (!this.#calls.delete(id)) return;
    // No `v` for undefined: `{r}` takes the JSON fast path, `{r, v: undefined}` would not.
    const msg = failed ? { r: id, e: errorToData(v) } : v === undefined ? { r: id } : { r: id, v };
    // A result that cannot be cloned, or is over the size limit, fails that call only.
    this.#channel.post(msg).catch((err) =>
      this.#channel.post({ r: id, e: errorToData(err) }).catch(() => {})
    );
  }
}

const NEVER_CONTROLLER = new AbortController();
