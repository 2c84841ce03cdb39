/**
 * Pulls from a JetStream pull consumer with the server's own protocol, one
 * request at a time, so the caller decides exactly how many messages it
 * takes (an agent: what it has slots for; a queue's `get`: one) and for how
 * long it waits, down to a no-wait pull for `get({ block: false })`.
 *
 * Data messages come with their original subject; a request's status (no
 * messages, request timeout) comes on the request's own reply subject, so a
 * late status of an abandoned request never ends the next one. A message
 * that arrives when no request wants it (its request was abandoned) is
 * handed back at once with a nak: it is never lost, nor held.
 *
 * @module
 */

import { createInbox, type Msg, type MsgHdrs, type NatsConnection } from "./deps.ts";

/** A message taken from a stream: its bytes and what acknowledging it needs. */
export interface Delivery {
  data: Uint8Array;
  subject: string;
  headers: MsgHdrs | undefined;
  /** The reply subject acks go to. */
  reply: string;
  /** Its sequence in the stream. */
  seq: number;
  /** 1 on its first delivery. */
  deliveries: number;
}

const encoder = new TextEncoder();
const ACK = encoder.encode("+ACK");
const WORKING = encoder.encode("+WPI");
const TERM = encoder.encode("+TERM");

/** Acknowledges: done, remove it from a work queue. */
export function ack(nc: NatsConnection, d: Delivery): void {
  nc.publish(d.reply, ACK);
}

/** Gives it back, to be delivered again after `delayMs`. */
export function nak(nc: NatsConnection, d: Delivery, delayMs = 0): void {
  const body = delayMs > 0 ? `-NAK {"delay":${Math.round(delayMs * 1_000_000)}}` : "-NAK";
  nc.publish(d.reply, encoder.encode(body));
}

/** Extends its lease by a full ack wait. */
export function working(nc: NatsConnection, d: Delivery): void {
  nc.publish(d.reply, WORKING);
}

/** Never deliver it again (work queues remove it). */
export function term(nc: NatsConnection, d: Delivery): void {
  nc.publish(d.reply, TERM);
}

function parseAck(reply: string): { seq: number; deliveries: number } {
  const t = reply.split(".");
  // $JS.ACK.<stream>.<consumer>.<delivered>.<sseq>.… (v1), or with domain and hash first (v2).
  const at = t.length === 9 ? 4 : 6;
  return { deliveries: Number(t[at]), seq: Number(t[at + 1]) };
}

/** How a request ended. */
export type PullEnd = "filled" | "empty" | "expired" | "lost" | "aborted" | "refused";

interface Request {
  n: number;
  batch: number;
  received: number;
  onMessage(d: Delivery): void;
  finish(end: PullEnd): void;
}

/** Pulls from one consumer of one stream. */
export class Puller {
  #nc: NatsConnection;
  #api: string;
  #inbox = createInbox();
  #sub;
  #current: Request | undefined;
  #n = 0;

  constructor(nc: NatsConnection, stream: string, consumer: string) {
    this.#nc = nc;
    this.#api = `$JS.API.CONSUMER.MSG.NEXT.${stream}.${consumer}`;
    this.#sub = nc.subscribe(`${this.#inbox}.*`, {
      callback: (err, msg) => err ? this.#current?.finish("lost") : this.#receive(msg),
    });
  }

  #receive(msg: Msg): void {
    const code = msg.headers?.code ?? 0;
    if (code === 0 && msg.reply?.startsWith("$JS.ACK.")) return this.#deliver(msg);
    // A status: 100 is an idle heartbeat; others end the request they answer.
    const req = this.#current;
    if (code === 100 || !req || msg.subject !== `${this.#inbox}.${req.n}`) return;
    req.finish(code === 404 ? "empty" : code === 408 ? "expired" : "refused");
  }

  #deliver(msg: Msg): void {
    const req = this.#current;
    const d: Delivery = {
      data: msg.data,
      subject: msg.subject,
      headers: msg.headers,
      reply: msg.reply!,
      ...parseAck(msg.reply!),
    };
    if (!req || req.received >= req.batch) return nak(this.#nc, d);
    req.received++;
    req.onMessage(d);
    if (req.received >= req.batch) req.finish("filled");
  }

  /**
   * Asks for up to `batch` messages, waiting at most `expires` ms for them (0:
   * only what is there now). Each message goes to `onMessage` as it comes.
   *
   * @returns How the request ended, and how many messages came.
   */
  pull(
    batch: number,
    expires: number,
    onMessage: (d: Delivery) => void,
    signal?: AbortSignal,
  ): Promise<{ end: PullEnd; received: number }> {
    if (this.#current) throw new Error("Puller: one request at a time");
    const n = ++this.#n;
    const { promise, resolve } = Promise.withResolvers<{ end: PullEnd; received: number }>();
    // A request lost with its connection (or its server) answers nothing.
    const guard = setTimeout(() => req.finish("lost"), expires + 1_000);
    const onAbort = () => req.finish("aborted");
    const req: Request = {
      n,
      batch,
      received: 0,
      onMessage,
      finish: (end) => {
        if (this.#current !== req) return;
        this.#current = undefined;
        clearTimeout(guard);
        signal?.removeEventListener("abort", onAbort);
        resolve({ end, received: req.received });
      },
    };
    this.#current = req;
    signal?.addEventListener("abort", onAbort, { once: true });
    const body = expires > 0
      ? { batch, expires: Math.round(expires * 1_000_000) }
      : { batch, no_wait: true };
    try {
      this.#nc.publish(this.#api, encoder.encode(JSON.stringify(body)), {
        reply: `${this.#inbox}.${n}`,
      });
    } catch {
      req.finish("lost");
    }
    return promise;
  }

  /** Stops listening; a request still open ends as aborted. */
  close(): void {
    this.#current?.finish("aborted");
    this.#sub.unsubscribe();
  }
}
