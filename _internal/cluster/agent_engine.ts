/**
 * A worker agent's engine: pulls task messages while it has slots for them,
 * keeps the lease of every message it holds alive (`working()`) while its
 * tasks wait or run, publishes a heartbeat record, and refuses (counts,
 * dead-letters, never runs) what it cannot trust. Running a task is the
 * caller's: `cluster/agent.ts` gives it a local `Pool`.
 *
 * @module
 */

import { type AnyFn, errorToData } from "./core.ts";
import type { Engine } from "./engine.ts";
import type { AgentContext, AgentSettings, Runner } from "./agent_context.ts";
import { randomId } from "./names.ts";
import { type Delivery, Puller, term, working } from "./puller.ts";
import type { AgentRecord, Death, Refusal, ResultEntry, TaskBatch } from "./protocol.ts";
import { handleDelivery } from "./agent_task.ts";
import { writeEntry } from "./results.ts";
import { sleep } from "./timing.ts";

/** A message id as submitters make them: where an untrusted message's refusal goes. */
const MSG_ID = /^[a-z0-9]{1,32}\.[a-z0-9]{1,16}$/;

/** Milliseconds a pull waits for messages before it asks again. */
const PULL_MS = 2_000;

/** One agent. */
export class AgentEngine implements AgentContext {
  readonly engine: Engine;
  readonly id: string = randomId();
  readonly modules: string[];
  readonly counters = { done: 0, failed: 0, retried: 0, refused: 0 };
  #settings: AgentSettings;
  #runner: Runner;
  #held = new Map<number, Delivery>();
  #imports = new Map<string, Promise<Record<string, unknown>>>();
  #puller: Puller;
  #stopping = new AbortController();
  #freed: (() => void) | undefined;
  #timers: ReturnType<typeof setInterval>[] = [];
  #started = Date.now();
  #loop: Promise<void> | undefined;

  constructor(engine: Engine, settings: AgentSettings, runner: Runner) {
    this.engine = engine;
    this.#settings = settings;
    this.modules = settings.modules;
    this.#runner = runner;
    this.#puller = new Puller(engine.nc, engine.names.tasksStream, engine.names.consumer);
  }

  run(fn: AnyFn, module: string, calls: unknown[][]): Promise<unknown[]> {
    return this.#runner.run(fn, module, calls);
  }

  workerDeath(err: unknown): Death | undefined {
    return this.#runner.workerDeath(err);
  }

  stopped(): boolean {
    return this.engine.closed;
  }

  /** Starts pulling, renewing leases and beating. */
  async start(): Promise<void> {
    const every = this.#every();
    await this.#beat();
    this.#timers.push(setInterval(() => this.#renewLeases(), every));
    this.#timers.push(setInterval(() => this.#beat().catch(() => {}), every));
    this.#loop = this.#pullLoop();
  }

  /** Lease renewal and heartbeat period: a third of the ack wait, at most 5 s. */
  #every(): number {
    return Math.max(50, Math.min(5_000, Math.floor(this.engine.settings.ackWait / 3)));
  }

  async #pullLoop(): Promise<void> {
    const signal = this.#stopping.signal;
    while (!signal.aborted && !this.engine.closed) {
      const free = this.#settings.slots - this.#held.size;
      if (free <= 0) {
        await new Promise<void>((resolve) => (this.#freed = resolve));
        continue;
      }
      const { end } = await this.#puller.pull(free, PULL_MS, (d) => this.#take(d), signal);
      // Disconnected, or the consumer is away (a cluster electing a leader): wait a little.
      if (end === "lost" || end === "refused") await sleep(250);
    }
  }

  #take(d: Delivery): void {
    this.#held.set(d.seq, d);
    handleDelivery(this, d)
      .catch((err) => console.error(`Cluster agent ${this.id}: task message ${d.seq}: ${err}`))
      .finally(() => {
        this.#held.delete(d.seq);
        this.#freed?.();
        this.#freed = undefined;
      });
  }

  /** Held messages stay leased while their tasks wait or run. */
  #renewLeases(): void {
    for (const d of this.#held.values()) {
      try {
        working(this.engine.nc, d);
      } catch {
        // Disconnected: the lease is renewed at the next tick, or expires.
      }
    }
  }

  /** This agent's record, as status() shows it. */
  record(): AgentRecord {
    const s = this.#settings;
    return {
      id: this.id,
      host: this.engine.host,
      pid: Deno.pid,
      processes: s.processes,
      slots: s.slots,
      startMethod: s.startMethod,
      modules: s.modules,
      started: this.#started,
      beat: Date.now(),
      every: this.#every(),
      held: [...this.#held.values()].map((d) => d.headers?.get("Nats-Msg-Id") ?? String(d.seq)),
      ...this.counters,
      stopping: this.#stopping.signal.aborted || undefined,
    };
  }

  async #beat(): Promise<void> {
    await this.engine.meta.put(`agent.${this.id}`, JSON.stringify(this.record()));
  }

  resolveModule(module: string, rel: boolean): string {
    try {
      return rel ? new URL(module, this.#settings.root).href : new URL(module).href;
    } catch {
      return module;
    }
  }

  allowed(url: string): boolean {
    return this.modules.some((prefix) => url.startsWith(prefix));
  }

  importModule(url: string): Promise<Record<string, unknown>> {
    let mod = this.#imports.get(url);
    if (!mod) {
      this.#imports.set(url, mod = import(url));
      mod.catch(() => this.#imports.delete(url)); // A failed import may work next time.
    }
    return mod;
  }

  /**
   * Refuses a message: counted, logged, dead-lettered, never delivered again.
   * A submitter it can trust (`batch`) gets a signed error for its tasks;
   * otherwise an unsigned notice goes to the result key, which its submitter
   * rejects with an AuthenticationError rather than wait for ever.
   */
  async refuse(d: Delivery, msgId: string, why: string, batch: TaskBatch | undefined) {
    console.error(
      `Cluster agent ${this.id} on ${this.engine.host}: refused task message ${d.seq}: ${why}`,
    );
    const n = this.engine.names;
    const dead = { reason: why, host: this.engine.host, agent: this.id, seq: d.seq, id: msgId };
    await this.engine.js.publish(n.deadSubject("tasks"), JSON.stringify(dead)).catch(() => {});
    if (batch) {
      const error = new Error(`Task refused by host ${this.engine.host}: ${why}`);
      const history = [{
        attempt: d.deliveries,
        host: this.engine.host,
        agent: this.id,
        pid: Deno.pid,
        outcome: "refused" as const,
      }];
      const out = batch.tasks.map(() => ({ err: errorToData(error), a: d.deliveries }));
      const entry: ResultEntry = { kind: "results", id: batch.id, history, out };
      await writeEntry(this.engine, entry, undefined, () => this.engine.closed);
    } else if (MSG_ID.test(msgId)) {
      const notice: Refusal = { refused: why, host: this.engine.host };
      await this.engine.results.create(`r.${msgId}`, JSON.stringify(notice)).catch(() => {});
    }
    term(this.engine.nc, d);
    this.counters.refused++;
  }

  /**
   * Stops pulling, lets the messages it holds finish, and removes its
   * record. Idempotent.
   */
  async stop(): Promise<void> {
    if (!this.#stopping.signal.aborted) {
      this.#stopping.abort();
      this.#freed?.();
    }
    await this.#loop;
    while (this.#held.size > 0) await sleep(20);
    for (const t of this.#timers.splice(0)) clearInterval(t);
    this.#puller.close();
    await this.engine.meta.delete(`agent.${this.id}`).catch(() => {});
  }
}
