/**
 * The host side of the object server: every connection that says "attach"
 * to this process's hub is served until it closes, each call dispatched to
 * the hosted object it names. A connection that closes, or whose process is
 * gone ({@link dropPeers}), has its calls aborted and its objects detached.
 *
 * Pushes to a worker child of this process go over the worker's port
 * instead of its socket (`peers.ts`).
 *
 * @module
 */

import { raceTimer } from "../base/async.ts";
import { isolateGlobal } from "../base/state.ts";
import { type Channel, CLOSED, SocketChannel } from "../transport/channel.ts";
import { BytesMessage } from "../wire/codec.ts";
import { placementEnded } from "../wire/placements.ts";
import { ProcessError } from "../base/errors.ts";
import { onHubMessage } from "./hub.ts";
import { localWorkers, portPeer, socketPeer } from "./peers.ts";
import { PortConnChannel } from "./ports.ts";
import type { Hosted, HostedEntry, Peer } from "./protocol.ts";
import {
  type Attach,
  type Grant,
  type Inbound,
  ProtocolError,
  readAttach,
  readInbound,
} from "./messages.ts";
import { ANY_ROLE, Sandbox } from "./sandbox.ts";

/** A call, checked (see `messages.ts`). */
type Call = { r?: number; o: string; m: string; a?: unknown[]; h?: unknown };
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
import { errorToData } from "../wire/error_data.ts";
import { WithHandles } from "./handles.ts";
import { limits } from "../wire/limits.ts";
import { markAt } from "./marks.ts";

// The host side: a connection that says "attach" is served until it closes.
onHubMessage("attach", serveConnection);

export { registerLocalWorker } from "./peers.ts";

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

/**
 * Closes, once what they carried has arrived, the connections over message
 * ports of a worker child that exited (and of its descendants): a port has
 * no end of its own when its thread stops, as a socket has (`ports.ts`).
 * A child that exits normally ends its sessions itself; one that called
 * `Deno.exit()` in a task, or failed, does not.
 */
export function closePortPeers(ident: string): void {
  const open = [...served()].filter(([channel, s]) =>
    channel instanceof PortConnChannel && isSelfOrDescendant(s.ident, ident)
  );
  if (open.length === 0) return;
  // What the thread posted before it stopped is delivered within a few turns.
  const timer = setTimeout(() => {
    for (const [channel] of open) channel.close();
  }, PORT_GRACE_MS);
  Deno.unrefTimer(timer);
}

/** Milliseconds a port connection of an exited worker child stays open for what it sent. */
const PORT_GRACE_MS = 20;

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

function serveConnection(channel: Channel, first: Record<string, unknown>, kid: string): void {
  let attach: Attach;
  let sandbox: Sandbox | undefined;
  try {
    attach = readAttach(first);
    if (kid !== "") sandbox = new Sandbox(kid, attach.grants ?? []);
  } catch {
    channel.close();
    return;
  }
  // A daemonic peer does not keep this process alive (its process handle does
  // not either): a pool's idle workers let a program end.
  if (attach.daemon) channel.unref();
  void new Connection(channel, attach, sandbox).serve();
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
  /** A sandboxed child's grants: what its connection may reach (none: everything). */
  #sandbox: Sandbox | undefined;
  /** Fire-and-forget calls still running (they count against the calls in flight). */
  #running = 0;

  constructor(channel: Channel, attach: Attach, sandbox?: Sandbox) {
    // A sandboxed child is who its launch said, and its sessions are its own.
    this.ident = sandbox ? sandbox.identOf(attach.ident) : attach.ident;
    this.#channel = channel;
    this.#sandbox = sandbox;
    const id = registry().nextPeer++;
    // Without a session of its own, a connection is its own session.
    const own = attach.session ?? `#${id}`;
    const session = sandbox ? `${sandbox.kid}/${own}` : own;
    this.#session = openSession(session, this.ident);
    const port = localWorkers().get(this.ident);
    const peer = port ? portPeer(id, session, port) : socketPeer(id, session, channel);
    this.#peer = sandbox ? { ...peer, granted: (o, role) => sandbox.may(o, role) } : peer;
    if (channel instanceof SocketChannel) channel.placer = (h, n) => this.#place(h, n);
  }

  /**
   * Where the bytes of a call whose frame is being read go (see
   * {@link SocketChannel.placer}): asked of its object, once the call has
   * passed the checks {@link Connection.#call} makes before it runs it.
   */
  #place(header: unknown, length: number): Uint8Array | undefined {
    const inbound: Inbound[] = [];
    try {
      readInbound(new BytesMessage(header, NO_BYTES), inbound);
    } catch {
      return undefined;
    }
    const m = inbound[0] as Call;
    const { entry } = this.#reach(m);
    if (!entry?.obj.place || !this.#roomForCall()) return undefined;
    return entry.obj.place(m.m, m.a!.slice(0, -1), length);
  }

  /**
   * The object a call names, when there is one this connection may reach
   * in the role the call needs; else why not, when it was refused.
   */
  #reach(m: Call): { entry?: HostedEntry; refused?: string } {
    const entry = registry().objects.get(m.o);
    if (!entry || !this.#sandbox) return { entry };
    const role = entry.obj.roleOf?.(m.m, m.a ?? []) ?? ANY_ROLE;
    if (this.#sandbox.may(m.o, role)) return { entry };
    return {
      refused: `Cannot reach object '${m.o}' as '${role}': this sandboxed process was not given it`,
    };
  }

  /** Dispatches each message until the connection closes, breaks the protocol, or is dropped. */
  async serve(): Promise<void> {
    served().set(this.#channel, this);
    const l = limits();
    while (!this.#tornDown) {
      // A client that does not read its replies is not read either (its
      // socket's own flow control then holds it back), until half is written.
      if (this.#channel.queued() > l.backlog) await this.#channel.whenBelow(l.backlog / 2);
      const msg = await this.#channel.recv();
      if (msg === CLOSED) break;
      try {
        this.#dispatch(msg);
      } catch {
        // A malformed message (ProtocolError), or an object that threw
        // where it must not: this connection only is closed.
        this.#channel.close();
        break;
      } finally {
        // Bytes placed in a reader's buffer and not delivered there (refused,
        // or sent on elsewhere): its inbox stops holding others behind them.
        if (msg instanceof BytesMessage) placementEnded(msg.bytes);
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
      } else if (m.end) {
        this.#ended = true;
        // A port has no end of its own when its worker exits: the session's is.
        if (this.#channel instanceof PortConnChannel) this.#channel.close();
      } else if (m.g) this.#grant(m.g);
      else this.#call(m as Call);
    }
  }

  /** More grants for a sandboxed connection (a pool task brought handles). */
  #grant(grants: Grant[]): void {
    if (!this.#sandbox) return;
    // A grant that does not check out breaks the protocol: the connection goes.
    this.#sandbox.add(grants);
  }

  #call(m: Call): void {
    const id = m.r;
    if (id !== undefined && this.#calls.has(id)) {
      throw new ProtocolError(`Malformed message: request id ${id} is already in flight`);
    }
    const { entry, refused } = this.#reach(m);
    if (!entry) {
      if (id !== undefined) {
        this.#calls.set(id, NEVER_CONTROLLER);
        const why = refused ?? `No object '${m.o}' here: it was released`;
        this.#reply(id, new ProcessError(why), true);
      }
      return;
    }
    this.#touch(entry.obj);
    const args = m.a ?? [];
    if (id === undefined) {
      // Fire and forget: no reply, no cancellation, errors dropped; what
      // still waits when the connection goes is aborted then. Past the
      // bound of calls in flight, dropped.
      if (!this.#roomForCall()) return;
      try {
        if (m.h !== undefined) markAt(args, m.h);
        const v = entry.obj.call(m.m, args, this.#peer, this.#gone.signal);
        if (v instanceof Promise) this.#track(v);
      } catch { /* the caller asked for no reply */ }
      return;
    }
    if (!this.#roomForCall()) {
      this.#calls.set(id, NEVER_CONTROLLER);
      const n = limits().callsInFlight;
      return this.#reply(id, new ProcessError(`Cannot call '${m.m}': ${n} calls in flight`), true);
    }
    const ctl = new AbortController();
    this.#calls.set(id, ctl);
    try {
      // Handles only where the message's paths say: a value is never taken for one.
      if (m.h !== undefined) markAt(args, m.h);
      const v = entry.obj.call(m.m, args, this.#peer, ctl.signal);
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
    const before = this.#channel.queued();
    // No `v` for undefined: `{r}` takes the JSON fast path, `{r, v: undefined}` would not.
    const msg = failed
      ? { r: id, e: errorToData(v) }
      : v === undefined
      ? { r: id }
      : v instanceof WithHandles
      ? { r: id, v: v.value, h: v.handles }
      : { r: id, v };
    // A result that cannot be cloned, or is over the size limit, fails that call only.
    this.#channel.post(msg).catch((err) =>
      this.#channel.post({ r: id, e: errorToData(err) }).catch(() => {})
    );
    // One large reply is fine; replies piling up past the hard cap on a
    // backlog (a client that never reads) close the connection.
    const l = limits();
    if (before > l.backlog && this.#channel.queued() > l.backlogHard) this.#channel.close();
  }

  /**
   * Whether one more call may start: at most `limits().callsInFlight` wait
   * for replies or run without one on this connection.
   */
  #roomForCall(): boolean {
    return this.#calls.size + this.#running < limits().callsInFlight;
  }

  /** Counts a fire-and-forget call still running until `v` settles. */
  #track(v: Promise<unknown>): void {
    this.#running++;
    v.catch(() => {}).finally(() => this.#running--);
  }
}

const NEVER_CONTROLLER = new AbortController();
/** Bytes not read yet: the placeholder a call's header is checked with before they are placed. */
const NO_BYTES = new Uint8Array(0);
