/**
 * The object protocol's types: one mechanism for every shared object
 * (queues, pipes, locks, manager objects). An object lives in the process
 * that created it (its host), which serves it as a {@link Hosted}; anywhere
 * else it is reached through an {@link ObjectRef}.
 *
 * Wire messages, client to host: `{r, o, m, a, h?}` (a call expecting a
 * reply `r`; `h`: where handles are among its arguments), `{o, m, a, h?}`
 * (fire and forget), `{c}` (cancel call `c`), `{b}` (a
 * batch of them), `{end: true}` (the client's session is over). Host to
 * client: `{r, v, h?}` or `{r, e}`, and `{p: objectId, ev, a}` pushes. Each is
 * checked where it enters (`messages.ts`).
 *
 * @module
 */

import type { Address } from "../transport/address.ts";
import type { Path } from "./paths.ts";

/** Who is calling: the host itself, or one connection. */
export interface Peer {
  /** Unique per connection; 0 for calls made in the host. */
  readonly id: number;
  /**
   * The client's session: what it holds by session (a manager's references)
   * outlives a lost connection for a grace period, and is resumed by a
   * connection of the same session ("" in the host).
   */
  readonly session: string;
  /**
   * Sends an event to this peer's references to `objectId` (no-op locally).
   * `transfer` moves those buffers instead of copying them where the peer
   * is a worker of this process; elsewhere they are copied. `json` says
   * the caller found `args` exact JSON (`surelyCloneable`) already, and
   * nothing has changed them since: they are not walked again.
   */
  push(
    objectId: string,
    event: string,
    args: unknown[],
    transfer?: Transferable[],
    json?: boolean,
  ): void;
  /**
   * Like {@link Peer.push}, with raw bytes as the event's last argument;
   * resolves once they are written (a sender can wait on a slow reader).
   */
  pushBytes(objectId: string, event: string, args: unknown[], bytes: Uint8Array): Promise<void>;
  /**
   * A sandboxed peer's grants: whether it was given object `objectId` (in
   * `role`, when one is named). Absent for a peer that holds the key itself.
   */
  granted?(objectId: string, role?: string): boolean;
}

/** An object served to other processes. */
export interface Hosted {
  /** Runs a method for a peer; `signal` aborts when the caller cancels or leaves. */
  call(
    method: string,
    args: unknown[],
    peer: Peer,
    signal: AbortSignal,
  ): unknown;
  /** The peer's connection is gone: give back what it held. */
  detach?(peer: Peer): void;
  /**
   * Where the bytes of a call about to run may be read (`length` of them,
   * its last argument, not read yet; `args`: the others), as a
   * {@link PushPlacer} does for a push. Asked only once the call passed
   * every check it must pass to run.
   */
  place?(method: string, args: unknown[], length: number): Uint8Array | undefined;
  /**
   * The role a call needs from a sandboxed peer (see `grants.ts`); default:
   * any role it was given the object in.
   */
  roleOf?(method: string, args: unknown[]): string | undefined;
  /**
   * The session is over (ended by its client, or no connection of it came
   * back within the grace period): give back what it held.
   */
  endSession?(session: string): void;
}

/** Options of a call. */
export interface CallOptions {
  /** Aborts the call: it rejects with the signal's reason. */
  signal?: AbortSignal;
  /**
   * Receives a result that arrived after the abort (the object had already
   * produced it), so that the caller can give it back.
   */
  onOrphan?(value: unknown): void;
  /**
   * Where handles (packed into descriptors) are among the arguments: the
   * host marks them (`marks.ts`). A reply that carries handles resolves a
   * `WithHandles`.
   */
  handles?: Path[];
}

/** Receives a push for an object: its event and arguments. */
export type PushListener = (event: string, args: unknown[]) => void;

/**
 * Where the bytes of a push whose frame is being read may go (its last
 * argument, `length` of them, not read yet): a view of exactly that length
 * (they are read straight into it, and the push then carries that view), or
 * `undefined` for a buffer of their own.
 */
export type PushPlacer = (event: string, args: unknown[], length: number) => Uint8Array | undefined;

/** A way to call an object, wherever it lives. */
export interface ObjectRef {
  /** The object's id in its host. */
  readonly id: string;
  /**
   * The host's address (the hub is opened on first need); `toWorker`: for
   * a worker child of this process, which may reach a hub without a socket
   * over its launch port (`ports.ts`).
   */
  address(options?: { toWorker?: boolean }): Promise<Address>;
  /**
   * Calls a method and resolves its result (a `WithHandles` when the host
   * sent handles back).
   */
  call(method: string, args: unknown[], opts?: CallOptions): Promise<unknown>;
  /** Calls a method without waiting for, or getting, a reply. */
  send(method: string, args: unknown[]): void;
  /**
   * Like {@link ObjectRef.send}, but resolves once the call is encoded and
   * queued, and rejects when its arguments cannot be cloned. Calls posted
   * from one process run in the order they were posted. The arguments are
   * taken at the call (copied), unless `taken` says the caller took them
   * already (a copy of its own, as `valueNow` makes it).
   */
  post(method: string, args: unknown[], handles?: Path[], taken?: boolean): Promise<void>;
  /**
   * Calls `method([...items])` later with this and the items of the calls
   * deferred after it (see `Client.defer`); `item` must surely encode, and
   * `size` is about how many bytes it takes (flow control counts them).
   */
  defer(method: string, item: unknown, size?: number): void;
  /**
   * Like {@link ObjectRef.defer}, for numbers that mostly come one after
   * the other (a consumer's leases): `method` gets `[first, count]` runs,
   * one per stretch of consecutive numbers deferred.
   */
  deferRun(method: string, n: number): void;
  /**
   * Whether a producer may hand this host more now: false while the bytes
   * accepted and not yet written to it exceed `limits().unsent`.
   */
  room(): boolean;
  /** Resolves once there is {@link ObjectRef.room} again (what waits is sent meanwhile). */
  whenRoom(): Promise<void>;
  /** At this process's exit, do not wait for calls to this host to be written. */
  noWaitAtExit(): void;
  /** Posts a call whose last argument is raw bytes, sent without the structured-clone serializer. */
  postBytes(method: string, args: unknown[], bytes: Uint8Array): Promise<void>;
  /**
   * Receives pushes for this object (pipes); `place` says where the bytes of
   * one about to arrive over a socket may be read (see {@link PushPlacer}).
   */
  onPush(listener: PushListener, place?: PushPlacer): void;
  /** Whether this reference is in the host. */
  readonly local: boolean;
  /** Why the connection to the host is gone, once it is known to be. */
  lost(): Error | undefined;
}

/**
 * A message from a client to a host: a call (`r` set when it expects a
 * reply), a cancel (`c`), a batch of them (`b`), or the session's end.
 */
export interface CallMessage {
  r?: number;
  o?: string;
  m?: string;
  a?: unknown[];
  h?: Path[];
  /** Grants a sandboxed client shows (see `grants.ts`). */
  g?: [string, string, string][];
  c?: number;
  b?: CallMessage[];
  end?: true;
}

/** This process's connection to one host, as the registry holds it. */
export interface HostConnection {
  /** Delivers a push to the listeners of one object (from the socket or a worker's port). */
  pushed(objectId: string, event: string, args: unknown[]): void;
  /** Resolves once every queued and deferred message is written. */
  drain(): Promise<void>;
  /** Closes the connection, failing its pending calls. */
  close(): void;
}

/** An object this process hosts, as the registry holds it. */
export interface HostedEntry {
  /** The object. */
  obj: Hosted;
  /** Its reference here. */
  ref: ObjectRef;
  /** This object's hold on the hub, once it was shared. */
  hub?: Promise<{ address: Address; release(): void }>;
}
