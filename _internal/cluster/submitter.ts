/**
 * The submitting side of a cluster's pools: publishes task messages (the
 * message id de-duplicates a publish retried after a lost connection),
 * watches its own result entries and settles each task from them, and
 * fails the tasks of a message that ran out of deliveries when JetStream's
 * max-deliveries advisory for it comes (kept in a stream, so one sent while
 * this client was disconnected still arrives).
 *
 * @module
 */

import { AuthenticationError, errorFromData } from "./core.ts";
import type { Engine } from "./engine.ts";
import { fillGaps, readAgents } from "./attempts.ts";
import { randomId } from "./names.ts";
import {
  type Attempt,
  type AttemptRecord,
  attemptsOf,
  type FnRef,
  type Outcome,
  type Refusal,
  type ResultEntry,
  type TaskBatch,
  TaskFailedError,
} from "./protocol.ts";
import { seal, unseal } from "./seal.ts";
import { backoff, sleep } from "./timing.ts";
import { Tail, tailBucket, type TailEntry } from "./tail.ts";

/** What a pool waits on for one task. */
export interface TaskHandle {
  /** The task's calls (argument lists). */
  calls: unknown[][];
  /** Set once it settled (by a result, or by the pool itself: abort, terminate). */
  settled: boolean;
  settle(result: { ok: unknown[] } | { error: unknown }, attempts: Attempt[]): void;
}

interface Batch {
  id: string;
  tasks: TaskHandle[];
  seq?: number;
  /** Sequence of its latest result entry. */
  entrySeq?: number;
  history: AttemptRecord[];
}

/** One client's submissions: every pool of a `Cluster` shares it. */
export class Submitter {
  readonly id: string = randomId();
  #engine: Engine;
  #batches = new Map<string, Batch>();
  #bySeq = new Map<number, string>();
  #next = 0;
  #ready: Promise<void> | undefined;
  #tails: Tail[] = [];
  #chores = new Set<Promise<unknown>>();

  constructor(engine: Engine) {
    this.#engine = engine;
  }

  /** Starts following results and advisories (once), before anything is published. */
  #start(): Promise<void> {
    this.#ready ??= (async () => {
      const e = this.#engine;
      const results = tailBucket(
        e,
        e.names.resultsBucket,
        `r.${this.id}.>`,
        "all",
        (entry) => this.#onEntry(entry),
      );
      const advisories = new Tail(
        e,
        e.names.eventsStream,
        e.names.maxDeliveriesAdvisory,
        "new",
        (d) => this.#onAdvisory(JSON.parse(new TextDecoder().decode(d.data))),
      );
      this.#tails.push(results, advisories);
      await results.start();
      await advisories.start();
    })();
    return this.#ready;
  }

  #chore(p: Promise<unknown>): void {
    this.#chores.add(p);
    p.finally(() => this.#chores.delete(p));
  }

  /**
   * Publishes `handles`' tasks of `fn` as one task message on the pool
   * subject `subject` (as several, where they do not fit in one message or
   * one of them cannot be encoded: that one alone fails). Retried until the
   * broker takes it, unless every task is settled first.
   */
  async publish(subject: string, fn: FnRef, handles: TaskHandle[]): Promise<void> {
    await this.#start();
    const id = `${this.id}.${(this.#next++).toString(36)}`;
    const body: TaskBatch = { kind: "tasks", id, fn, tasks: handles.map((h) => h.calls) };
    let sealed: Uint8Array;
    try {
      sealed = await seal(this.#engine.key, body);
      const max = (this.#engine.nc.info?.max_payload ?? 1_048_576) - 4096;
      if (sealed.length > max) {
        throw new RangeError(
          `Cannot submit task: its arguments take ${sealed.length} bytes, more than a message holds (${max})`,
        );
      }
    } catch (err) {
      if (handles.length === 1) return handles[0].settle({ error: err }, []);
      const half = Math.ceil(handles.length / 2);
      await this.publish(subject, fn, handles.slice(0, half));
      return await this.publish(subject, fn, handles.slice(half));
    }
    const batch: Batch = { id, tasks: handles, history: [] };
    this.#batches.set(id, batch);
    for (let i = 0; this.#batches.has(id) && !this.#engine.closed; i++) {
      try {
        const ack = await this.#engine.js.publish(subject, sealed, { msgID: id });
        batch.seq = ack.seq;
        this.#bySeq.set(ack.seq, id);
        // Settled while it was being published (aborted): take it back.
        if (!this.#batches.has(id)) this.#delete(ack.seq);
        return;
      } catch {
        await sleep(backoff(i));
      }
    }
  }

  /**
   * The pool settled some tasks itself (abort, terminate): messages with
   * nothing left to wait for are forgotten and deleted from the stream (one
   * by one: see {@link Submitter.#forget}).
   */
  dropped(handles: TaskHandle[]): void {
    const set = new Set(handles);
    for (const b of [...this.#batches.values()]) {
      if (b.tasks.some((t) => set.has(t)) && b.tasks.every((t) => t.settled)) this.#forget(b, true);
    }
  }

  #forget(b: Batch, deleteMessage: boolean): void {
    this.#batches.delete(b.id);
    if (b.seq !== undefined) {
      this.#bySeq.delete(b.seq);
      if (deleteMessage) this.#delete(b.seq);
    }
    // Deleted by sequence: on nats-server 2.9 a purge filtered by subject
    // moved the watch's consumer past entries it had not yet delivered.
    if (b.entrySeq !== undefined) {
      const stream = `KV_${this.#engine.names.resultsBucket}`;
      const seq = b.entrySeq;
      this.#chore(this.#engine.jsm.streams.deleteMessage(stream, seq, false).catch(() => {}));
    }
  }

  #delete(seq: number): void {
    const stream = this.#engine.names.tasksStream;
    this.#chore(this.#engine.jsm.streams.deleteMessage(stream, seq, false).catch(() => {}));
  }

  async #onEntry(e: TailEntry): Promise<void> {
    if (e.operation !== "PUT") return;
    const id = e.key.slice(2);
    const b = this.#batches.get(id);
    if (!b) return; // Settled already: a duplicate, or a result of an aborted task.
    b.entrySeq = e.revision;
    let entry: ResultEntry;
    try {
      entry = await unseal(this.#engine.key, e.value, `the result of task ${id}`) as ResultEntry;
      if (entry.kind !== "results" || entry.id !== id) throw new Error("misaddressed");
    } catch (err) {
      return this.#refuse(b, e.value, err);
    }
    b.history = entry.history;
    entry.out.forEach((o, i) => o && this.#settle(b, i, o));
    if (b.tasks.every((t) => t.settled)) this.#forget(b, false);
  }

  #settle(b: Batch, i: number, o: Outcome): void {
    const task = b.tasks[i];
    if (!task || task.settled) return;
    const attempts = attemptsOf(fillGaps(b.history, o.a + 1, b.id, []), i, o.a);
    if ("ok" in o) task.settle({ ok: o.ok }, attempts);
    else if ("err" in o) task.settle({ error: errorFromData(o.err) }, attempts);
    else task.settle({ error: new TaskFailedError(`${b.id}.${i}`, attempts) }, attempts);
  }

  /** A result entry that is not ours to trust: its tasks fail, the value is not taken. */
  #refuse(b: Batch, value: Uint8Array, err: unknown): void {
    let said = "";
    try {
      const r = JSON.parse(new TextDecoder().decode(value)) as Refusal;
      if (typeof r.refused === "string") said = ` (host ${r.host} refused the task: ${r.refused})`;
    } catch {
      // Not a refusal: a forged or damaged result.
    }
    const error = new AuthenticationError(`${(err as Error).message}${said}`);
    b.tasks.forEach((t, i) =>
      !t.settled && t.settle({ error }, attemptsOf(b.history, i, Infinity))
    );
    this.#forget(b, false);
  }

  async #onAdvisory(a: { stream_seq?: number; deliveries?: number }): Promise<void> {
    const id = a.stream_seq === undefined ? undefined : this.#bySeq.get(a.stream_seq);
    const b = id === undefined ? undefined : this.#batches.get(id);
    if (!b) return;
    const agents = await readAgents(this.#engine).catch(() => []);
    const history = fillGaps(b.history, (a.deliveries ?? 0) + 1, b.id, agents);
    b.tasks.forEach((t, i) => {
      if (t.settled) return;
      const attempts = attemptsOf(history, i, Infinity);
      t.settle({ error: new TaskFailedError(`${b.id}.${i}`, attempts) }, attempts);
    });
    await this.#deadLetter(b, history);
    this.#forget(b, true);
  }

  async #deadLetter(b: Batch, history: AttemptRecord[]): Promise<void> {
    const n = this.#engine.names;
    const record = { reason: "max deliveries", id: b.id, seq: b.seq, attempts: history };
    await this.#engine.js.publish(n.deadSubject("tasks"), JSON.stringify(record)).catch(() => {});
  }

  /** Stops watching; waits for the clean-ups under way. */
  async close(): Promise<void> {
    await this.#ready?.catch(() => {});
    for (const tail of this.#tails.splice(0)) await tail.stop();
    while (this.#chores.size > 0) await Promise.allSettled([...this.#chores]);
  }
}
