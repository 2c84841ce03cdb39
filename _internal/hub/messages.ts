/**
 * The object protocol's messages, checked where they enter: every field of
 * every kind, in both directions, whatever channel carried them (a socket
 * today, a worker's message port as well). A message that does not check
 * out is a {@link ProtocolError}: its connection is closed, and nothing
 * else happens. Per-object argument checks are the object's own (its
 * `call` throws, and that call fails).
 *
 * Client to host: a call `{r?, o, m, a?, h?}` (`r` when it expects a reply,
 * `h` the paths of the handles among its arguments: see `handles.ts`), a
 * cancel `{c}`, the end of the client's session `{end: true}`, or a batch
 * `{b: [...]}` of calls and cancels; a call with raw bytes is a
 * `BytesMessage` whose header is a call without `r`. Host to client: a
 * reply `{r}`, `{r, v, h?}` or `{r, e}`, and pushes `{p, ev, a}` (or a
 * `BytesMessage` whose header is one).
 *
 * @module
 */

import { BytesMessage } from "../wire/codec.ts";
import type { ErrorData } from "../wire/error_data.ts";
import type { CallMessage } from "./protocol.ts";
import { checkPaths, type Path } from "./paths.ts";

/** A message that breaks the object protocol: its connection is closed. */
export class ProtocolError extends Error {
  /** Creates a protocol error. */
  constructor(message: string) {
    super(message);
    this.name = "ProtocolError";
  }
}

/**
 * A client's message, checked, as the host dispatches it: a cancel (`c`
 * set), the session's end (`end` set), or a call (`o`, `m`, `a`, and `r`
 * when it expects a reply). The message itself, not a copy: checking costs
 * no allocation on the path of every call.
 */
export type Inbound = CallMessage & { a?: unknown[]; g?: Grant[] };

/** A grant, as a sandboxed client presents one: object id, role, proof (hex). */
export type Grant = [string, string, string];

/** The most grants one message may carry. */
const MAX_GRANTS = 4096;

/** Checks a list of grants' shape (their proofs are the server's to check). */
function readGrants(g: unknown): Grant[] {
  const ok = Array.isArray(g) && g.length <= MAX_GRANTS &&
    g.every((x) =>
      Array.isArray(x) && x.length === 3 &&
      x.every((s) => typeof s === "string" && s.length > 0 && s.length <= MAX_NAME)
    );
  if (!ok) fail("'g' is not a list of grants");
  return g as Grant[];
}

/** Longest object id accepted (ids are short base-36 numbers). */
const MAX_ID = 64;

/** Longest method name accepted. */
const MAX_METHOD = 128;

function fail(what: string): never {
  throw new ProtocolError(`Malformed message: ${what}`);
}

function isPlain(v: unknown): v is Record<string, unknown> {
  if (typeof v !== "object" || v === null) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/** Whether `v` is a request id: a positive safe integer. */
function isRequestId(v: unknown): v is number {
  return typeof v === "number" && Number.isSafeInteger(v) && v > 0;
}

function checkKeys(m: Record<string, unknown>, allowed: ReadonlySet<string>): void {
  for (const key in m) if (!allowed.has(key)) fail(`unknown field '${key.slice(0, 32)}'`);
}

const CALL_KEYS: ReadonlySet<string> = new Set(["r", "o", "m", "a", "h"]);
const CANCEL_KEYS: ReadonlySet<string> = new Set(["c"]);
const BATCH_KEYS: ReadonlySet<string> = new Set(["b"]);
const END_KEYS: ReadonlySet<string> = new Set(["end"]);
const GRANT_KEYS: ReadonlySet<string> = new Set(["g"]);

function checkCall(m: Record<string, unknown>, bytes: boolean): void {
  checkKeys(m, CALL_KEYS);
  const { r, o, m: method, a, h } = m;
  if (typeof o !== "string" || o.length === 0 || o.length > MAX_ID) fail("'o' is not an object id");
  if (typeof method !== "string" || method.length === 0 || method.length > MAX_METHOD) {
    fail("'m' is not a method name");
  }
  if (a !== undefined && !Array.isArray(a)) fail("'a' is not an array");
  if (r !== undefined && !isRequestId(r)) fail("'r' is not a request id");
  if (bytes && r !== undefined) fail("a call with bytes expects no reply");
  if (h !== undefined) checkHandles(h, bytes);
}

/** A message's handle paths: their shape (where they lead is checked where they are used). */
function checkHandles(h: unknown, bytes: boolean): void {
  if (bytes) fail("a call with bytes carries no handles");
  try {
    checkPaths(h);
  } catch {
    fail("'h' is not a list of handle paths");
  }
}

/** One message of a batch, or a message on its own: a call, a cancel or grants. */
function readOne(m: unknown, out: Inbound[]): void {
  if (!isPlain(m)) fail("not an object");
  if ("c" in m) {
    checkKeys(m, CANCEL_KEYS);
    if (!isRequestId(m.c)) fail("'c' is not a request id");
  } else if ("g" in m) {
    checkKeys(m, GRANT_KEYS);
    return void out.push({ g: readGrants(m.g) });
  } else {
    checkCall(m, false);
  }
  out.push(m as Inbound);
}

/**
 * Checks a message from a client and appends what it asks, in order, to
 * `out`.
 *
 * @throws {ProtocolError} When any field of it is malformed.
 */
export function readInbound(msg: unknown, out: Inbound[]): void {
  if (msg instanceof BytesMessage) {
    const h = msg.header;
    if (!isPlain(h)) fail("the header of a bytes message is not an object");
    checkCall(h, true);
    out.push({ o: h.o as string, m: h.m as string, a: [...(h.a as unknown[] ?? []), msg.bytes] });
    return;
  }
  if (!isPlain(msg)) fail("not an object");
  if ("b" in msg) {
    checkKeys(msg, BATCH_KEYS);
    const b = msg.b;
    if (!Array.isArray(b)) fail("'b' is not an array");
    // Batches are flat: a batch inside one is malformed, so nesting costs no stack.
    for (const m of b) {
      if (isPlain(m) && "b" in m) fail("a batch inside a batch");
      readOne(m, out);
    }
    return;
  }
  if ("end" in msg) {
    checkKeys(msg, END_KEYS);
    if (msg.end !== true) fail("'end' is not true");
    out.push(msg as Inbound);
    return;
  }
  readOne(msg, out);
}

/** What a host's message tells a client, checked. */
export type Outbound =
  | { kind: "reply"; id: number; value: unknown; handles?: Path[] }
  | { kind: "error"; id: number; error: ErrorData }
  | { kind: "push"; objectId: string; event: string; args: unknown[] };

function readPush(m: Record<string, unknown>, bytes?: Uint8Array): Outbound {
  const { p, ev, a } = m;
  if (typeof p !== "string" || p.length > MAX_ID) fail("'p' is not an object id");
  if (typeof ev !== "string" || ev.length > MAX_METHOD) fail("'ev' is not an event name");
  if (a !== undefined && !Array.isArray(a)) fail("'a' is not an array");
  const args = a ?? [];
  return { kind: "push", objectId: p, event: ev, args: bytes ? [...args, bytes] : args };
}

/** Whether `e` has the shape of {@link ErrorData}. */
function isErrorData(e: unknown): e is ErrorData {
  return isPlain(e) && typeof e.name === "string" && typeof e.message === "string" &&
    (e.stack === undefined || typeof e.stack === "string") &&
    (e.fields === undefined || isPlain(e.fields));
}

/**
 * Checks a message from a host.
 *
 * @throws {ProtocolError} When any field of it is malformed.
 */
export function readOutbound(msg: unknown): Outbound {
  if (msg instanceof BytesMessage) {
    if (!isPlain(msg.header)) fail("the header of a bytes message is not an object");
    return readPush(msg.header, msg.bytes);
  }
  if (!isPlain(msg)) fail("not an object");
  if ("r" in msg) {
    if (!isRequestId(msg.r)) fail("'r' is not a request id");
    if ("e" in msg) {
      if (!isErrorData(msg.e)) fail("'e' is not an error");
      return { kind: "error", id: msg.r, error: msg.e };
    }
    if (msg.h === undefined) return { kind: "reply", id: msg.r, value: msg.v };
    checkHandles(msg.h, false);
    return { kind: "reply", id: msg.r, value: msg.v, handles: msg.h as Path[] };
  }
  return readPush(msg);
}

/** The first message of a connection that attaches to a host's objects. */
export interface Attach {
  /** Who connects (a process or worker ident). */
  ident: string;
  /** The client's session, when it has one: its references outlive a lost connection. */
  session?: string;
  /** Whether the client is a daemonic process (its connection does not keep the host alive). */
  daemon?: boolean;
  /** A sandboxed client's grants (see `grants.ts`). */
  grants?: Grant[];
}

/** Longest ident or session id accepted. */
const MAX_NAME = 256;

/**
 * Checks an "attach" message.
 *
 * @throws {ProtocolError} When a field is malformed.
 */
export function readAttach(first: Record<string, unknown>): Attach {
  const { ident, session, daemon, g } = first;
  if (daemon !== undefined && typeof daemon !== "boolean") fail("'daemon' is not a boolean");
  if (ident !== undefined && (typeof ident !== "string" || ident.length > MAX_NAME)) {
    fail("'ident' is not a name");
  }
  if (
    session !== undefined && (typeof session !== "string" || !/^[0-9a-f]{16,64}$/.test(session))
  ) {
    fail("'session' is not a session id");
  }
  return {
    ident: ident ?? "",
    session,
    daemon: daemon === true,
    ...(g === undefined ? {} : { grants: readGrants(g) }),
  };
}
