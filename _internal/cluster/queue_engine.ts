/**
 * A queue over a JetStream work-queue stream: one stream per queue (its
 * `maxsize` is the stream's message limit, new messages refused when full),
 * one shared durable pull consumer, and a closed flag in the shared-state
 * bucket that every host watches. Closing also moves the stream off the
 * queue's subject, so that a put after `close()` finds no stream: it
 * rejects on every host, whether or not that host has seen the flag yet.
 *
 * @module
 */

import { AckPolicy, DiscardPolicy, JetStreamApiError, RetentionPolicy } from "./deps.ts";
import { AuthenticationError, QueueClosedError } from "./core.ts";
import type { Engine } from "./engine.ts";
import { checkName, randomId } from "./names.ts";
import { type Delivery, Puller, term } from "./puller.ts";
import { seal, unseal } from "./seal.ts";
import { type Tail, tailBucket } from "./tail.ts";
import { backoff, sleep } from "./timing.ts";

const CONSUMER = "getters";
const MAX_MSGS_EXCEEDED = 10077;
const CONSUMER_NOT_FOUND = 10014;
const MS = 1_000_000;

/** What a put found: the item is in, or the queue is full. */
export type PutResult = "put" | "full";

/** One queue's engine, shared by a handle's methods. */
export class QueueEngine {
  readonly engine: Engine;
  readonly name: string;
  readonly stream: string;
  maxsize = 0;
  closed = false;
  refused = 0;
  #puller: Puller | undefined;
  #flag: Tail | undefined;
  #onClosed = new Set<() => void>();

  constructor(engine: Engine, name: string) {
    this.engine = engine;
    this.name = checkName("queue", name);
    this.stream = engine.names.queueStream(name);
  }

  /** Creates the stream and consumer unless they exist, and starts watching the flag. */
  async open(maxsize: number): Promise<void> {
    const n = this.engine.names;
    await this.engine.ensureStream({
      name: this.stream,
      subjects: [n.queueSubject(this.name)],
      retention: RetentionPolicy.Workqueue,
      max_msgs: maxsize > 0 ? maxsize : -1,
      discard: DiscardPolicy.New,
      num_replicas: this.engine.settings.replicas,
    });
    const info = await this.engine.jsm.streams.info(this.stream);
    this.maxsize = Math.max(0, info.config.max_msgs ?? 0);
    if (!info.config.subjects?.includes(n.queueSubject(this.name))) this.closed = true;
    await this.#ensureConsumer();
    this.#puller = new Puller(this.engine.nc, this.stream, CONSUMER);
    this.#flag = tailBucket(this.engine, n.metaBucket, this.#flagKey(), "last_per_subject", (e) => {
      if (e.operation === "PUT") this.#markClosed();
    });
    await this.#flag.start();
  }

  async #ensureConsumer(): Promise<void> {
    try {
      await this.engine.jsm.consumers.info(this.stream, CONSUMER);
    } catch (err) {
      if (!(err instanceof JetStreamApiError && err.code === CONSUMER_NOT_FOUND)) throw err;
      await this.engine.jsm.consumers.add(this.stream, {
        durable_name: CONSUMER,
        ack_policy: AckPolicy.Explicit,
        ack_wait: this.engine.settings.ackWait * MS,
        max_deliver: -1,
        max_ack_pending: -1,
      }).catch(() => this.engine.jsm.consumers.info(this.stream, CONSUMER));
    }
  }

  #flagKey(): string {
    return `q.${this.name}.closed`;
  }

  #markClosed(): void {
    if (this.closed) return;
    this.closed = true;
    for (const f of this.#onClosed) f();
  }

  /** Calls `f` once the queue is closed (now, if it is); returns a function that stops that. */
  whenClosed(f: () => void): () => void {
    if (this.closed) {
      f();
      return () => {};
    }
    this.#onClosed.add(f);
    return () => this.#onClosed.delete(f);
  }

  /** Puts once: "full" when the stream is at its limit. Retries while the broker is away. */
  async put(sealed: Uint8Array, msgId: string, item: unknown): Promise<PutResult> {
    const subject = this.engine.names.queueSubject(this.name);
    for (let i = 0;; i++) {
      if (this.closed) throw new QueueClosedError("Cannot put to queue: it is closed", item);
      try {
        await this.engine.js.publish(subject, sealed, { msgID: msgId });
        return "put";
      } catch (err) {
        if (err instanceof JetStreamApiError && err.code === MAX_MSGS_EXCEEDED) return "full";
        // No stream takes the subject: closed (the flag says so), or the broker is away.
        if (await this.#flagSet()) this.#markClosed();
        else if (this.engine.closed) throw err;
        else await sleep(backoff(i));
      }
    }
  }

  async #flagSet(): Promise<boolean> {
    try {
      return (await this.engine.meta.get(this.#flagKey()))?.operation === "PUT";
    } catch {
      return false;
    }
  }

  /** Seals an item of this queue. */
  seal(item: unknown): Promise<Uint8Array> {
    return seal(this.engine.key, { kind: "item", q: this.name, v: item });
  }

  /** A fresh message id for a put (its retries keep it: de-duplicated). */
  newMsgId(): string {
    return randomId(20);
  }

  /**
   * Takes at most one message, waiting up to `expires` ms (0: no wait).
   * Undefined when none came (or the wait was cut short by `signal`).
   */
  async take(expires: number, signal?: AbortSignal): Promise<Delivery | undefined> {
    let got: Delivery | undefined;
    const { end } = await this.#puller!.pull(1, expires, (d) => (got = d), signal);
    if (end === "lost" || end === "refused") await sleep(100);
    return got;
  }

  /**
   * The item a message carries, verified; undefined for one that fails
   * verification (then refused: counted, dead-lettered, never delivered again).
   */
  async verify(d: Delivery): Promise<{ item: unknown } | undefined> {
    try {
      const body = await unseal(this.engine.key, d.data, `an item of queue '${this.name}'`) as {
        kind: string;
        q: string;
        v: unknown;
      };
      if (body.kind !== "item" || body.q !== this.name) {
        throw new AuthenticationError("Cannot accept an item: it belongs elsewhere");
      }
      return { item: body.v };
    } catch (err) {
      this.refused++;
      console.error(
        `Cluster queue '${this.name}': refused item ${d.seq}: ${(err as Error).message}`,
      );
      const dead = { reason: (err as Error).message, host: this.engine.host, seq: d.seq };
      const subject = this.engine.names.deadSubject(`q.${this.name}`);
      await this.engine.js.publish(subject, JSON.stringify(dead)).catch(() => {});
      term(this.engine.nc, d);
      return undefined;
    }
  }

  /** Items waiting to be taken. */
  async pending(): Promise<number> {
    return (await this.engine.jsm.consumers.info(this.stream, CONSUMER)).num_pending;
  }

  /** Items in the stream (waiting, or taken and not yet acked). */
  async messages(): Promise<number> {
    return (await this.engine.jsm.streams.info(this.stream)).state.messages;
  }

  /** Closes the queue for every host: moves the stream off the subject, then sets the flag. */
  async close(): Promise<void> {
    const n = this.engine.names;
    await this.engine.jsm.streams.update(this.stream, {
      subjects: [n.queueClosedSubject(this.name)],
    });
    await this.engine.meta.put(this.#flagKey(), "1");
    this.#markClosed();
  }

  /** Stops this handle's watch and pulls. */
  async dispose(): Promise<void> {
    this.#puller?.close();
    await this.#flag?.stop();
  }
}
