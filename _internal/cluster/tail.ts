/**
 * Follows a stream (a subject filter of it) from this client: results for a
 * submitter, advisories, agents' records, a queue's closed flag.
 *
 * Not the client's key-value watch: that is an ephemeral push consumer, and
 * on a JetStream cluster that lost the node holding it, measured here, it
 * never came back (a map waited for ever on results already written). This
 * is an ephemeral pull consumer of its own, pulled with the server's
 * protocol (see puller.ts); when pulls stop being answered and the consumer
 * is gone, it is made again from the sequence after the last one seen.
 *
 * @module
 */

import { AckPolicy, DeliverPolicy, JetStreamApiError } from "./deps.ts";
import type { Engine } from "./engine.ts";
import { randomId } from "./names.ts";
import { ack, type Delivery, Puller } from "./puller.ts";
import { backoff, sleep } from "./timing.ts";

/** Where a tail starts. */
export type TailStart = "all" | "new" | "last_per_subject";

const CONSUMER_NOT_FOUND = 10014;
const MS = 1_000_000;
/** Messages per pull. */
const BATCH = 256;
/** A pull waits this long for messages before asking again. */
const PULL_MS = 2_000;

/** One followed stream. */
export class Tail {
  #engine: Engine;
  #stream: string;
  #filter: string;
  #start: TailStart;
  #onMessage: (d: Delivery) => void | Promise<void>;
  #name = "";
  #puller: Puller | undefined;
  #last = 0;
  #stopping = new AbortController();
  #loop: Promise<void> | undefined;

  constructor(
    engine: Engine,
    stream: string,
    filter: string,
    start: TailStart,
    onMessage: (d: Delivery) => void | Promise<void>,
  ) {
    this.#engine = engine;
    this.#stream = stream;
    this.#filter = filter;
    this.#start = start;
    this.#onMessage = onMessage;
  }

  /** Makes the consumer; resolves once what was there already has been handled. */
  async start(): Promise<void> {
    const backlog = await this.#create();
    const caughtUp = Promise.withResolvers<void>();
    let handled = 0;
    if (backlog === 0) caughtUp.resolve();
    this.#loop = this.#run(() => {
      if (++handled >= backlog) caughtUp.resolve();
    }).finally(() => caughtUp.resolve());
    await caughtUp.promise;
  }

  /** Creates the consumer (again, after the last sequence seen); how many messages wait. */
  async #create(): Promise<number> {
    const name = `mp_${randomId(16)}`;
    const from = this.#last > 0
      ? { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: this.#last + 1 }
      : { deliver_policy: this.#start as DeliverPolicy };
    const info = await this.#engine.jsm.consumers.add(this.#stream, {
      name,
      ack_policy: AckPolicy.All,
      filter_subject: this.#filter,
      inactive_threshold: 600_000 * MS,
      max_ack_pending: -1,
      mem_storage: true,
      num_replicas: 1,
      ...from,
    });
    this.#puller?.close();
    this.#name = name;
    this.#puller = new Puller(this.#engine.nc, this.#stream, name);
    return info.num_pending;
  }

  async #run(counted: () => void): Promise<void> {
    const signal = this.#stopping.signal;
    // Messages are handled as they come (a pull stays open until its batch
    // is full or it expires), one after the other.
    let handling = Promise.resolve();
    const handle = (d: Delivery) => {
      if (d.seq <= this.#last) return; // Delivered again: handled already.
      this.#last = d.seq;
      handling = handling.then(() => this.#onMessage(d)).catch(() => {}).then(counted);
    };
    while (!signal.aborted && !this.#engine.closed) {
      let last: Delivery | undefined;
      const { end } = await this.#puller!.pull(BATCH, PULL_MS, (d) => {
        last = d;
        handle(d);
      }, signal);
      await handling;
      if (last) ack(this.#engine.nc, last);
      if (end === "lost" || end === "refused") await this.#recover(signal);
    }
  }

  /**
   * Pulls go unanswered. If the consumer is gone, or does not answer either
   * (its node died: on a JetStream cluster the assignment of an ephemeral
   * consumer outlives its node until it expires), it is made again.
   */
  async #recover(signal: AbortSignal): Promise<void> {
    const old = this.#name;
    let healthy = false;
    try {
      await this.#engine.jsmQuick.consumers.info(this.#stream, old);
      healthy = true;
    } catch (err) {
      if (err instanceof JetStreamApiError && err.code !== CONSUMER_NOT_FOUND) healthy = true;
    }
    // A stream electing a leader refuses for a while: keep asking.
    for (let i = 0; !healthy && !signal.aborted && !this.#engine.closed; i++) {
      try {
        await this.#create();
        this.#engine.jsm.consumers.delete(this.#stream, old).catch(() => {});
        return;
      } catch {
        await sleep(backoff(i));
      }
    }
  }

  /** Stops following and deletes the consumer. */
  async stop(): Promise<void> {
    this.#stopping.abort();
    await this.#loop;
    this.#puller?.close();
    if (!this.#engine.closed) {
      await this.#engine.jsm.consumers.delete(this.#stream, this.#name).catch(() => {});
    }
  }
}

/** A key-value entry as a tail of its bucket's stream delivers it. */
export interface TailEntry {
  key: string;
  operation: "PUT" | "DEL" | "PURGE";
  revision: number;
  value: Uint8Array;
}

/** The entry a message of bucket `bucket`'s stream carries. */
export function entryOf(bucket: string, d: Delivery): TailEntry {
  const op = d.headers?.get("KV-Operation");
  return {
    key: d.subject.slice(`$KV.${bucket}.`.length),
    operation: op === "DEL" || op === "PURGE" ? op : "PUT",
    revision: d.seq,
    value: d.data,
  };
}

/** Follows keys `filter` (a key pattern) of bucket `bucket`, their latest values first. */
export function tailBucket(
  engine: Engine,
  bucket: string,
  filter: string,
  start: TailStart,
  onEntry: (e: TailEntry) => void | Promise<void>,
): Tail {
  return new Tail(
    engine,
    `KV_${bucket}`,
    `$KV.${bucket}.${filter}`,
    start,
    (d) => onEntry(entryOf(bucket, d)),
  );
}
