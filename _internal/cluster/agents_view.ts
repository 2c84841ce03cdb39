/**
 * A live view of the cluster's worker agents, from their heartbeat records:
 * `status()` lists them, and pools size their task messages and default
 * chunks by the slots and processes of the agents alive.
 *
 * @module
 */

import type { KvEntry } from "./deps.ts";
import type { Engine } from "./engine.ts";
import type { AgentRecord } from "./protocol.ts";

/** Whether a record's agent beat recently (within three periods, and a second of clock skew). */
export function isAlive(r: AgentRecord, now = Date.now()): boolean {
  return !r.stopping && now - r.beat < 3 * r.every + 1_000;
}

/** The agents of one cluster, as their records say. */
export class AgentsView {
  #records = new Map<string, AgentRecord>();
  #stop: (() => void) | undefined;
  #loop: Promise<void> | undefined;

  /**
   * Starts watching; resolves once the records there now are read (the
   * first entry marked as an update is the last of them), or after 250 ms
   * where there are none.
   */
  async start(engine: Engine): Promise<void> {
    const watch = await engine.meta.watch({ key: "agent.>" });
    this.#stop = () => watch.stop();
    const { promise: caughtUp, resolve } = Promise.withResolvers<void>();
    const timer = setTimeout(resolve, 250);
    this.#loop = (async () => {
      for await (const e of watch) {
        this.#apply(e);
        if (e.isUpdate) resolve();
      }
    })().catch(() => {}).finally(resolve);
    await caughtUp;
    clearTimeout(timer);
  }

  #apply(e: KvEntry): void {
    const id = e.key.slice("agent.".length);
    if (e.operation !== "PUT") {
      this.#records.delete(id);
      return;
    }
    try {
      this.#records.set(id, e.json<AgentRecord>());
    } catch {
      // Not a record of ours.
    }
  }

  /** Every agent seen (alive or not), oldest first. */
  list(): AgentRecord[] {
    return [...this.#records.values()].sort((a, b) => a.started - b.started);
  }

  /** The slots and processes of the agents alive now (at least 1 each). */
  totals(): { slots: number; processes: number } {
    let slots = 0;
    let processes = 0;
    const now = Date.now();
    for (const r of this.#records.values()) {
      if (!isAlive(r, now)) continue;
      slots += r.slots;
      processes += r.processes;
    }
    return { slots: Math.max(1, slots), processes: Math.max(1, processes) };
  }

  /** Stops watching. */
  async close(): Promise<void> {
    this.#stop?.();
    await this.#loop;
  }
}
