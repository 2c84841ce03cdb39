/**
 * A live view of the cluster's worker agents, from their heartbeat records:
 * `status()` lists them, and pools size their task messages and default
 * chunks by the slots and processes of the agents alive.
 *
 * @module
 */

import type { Engine } from "./engine.ts";
import type { AgentRecord } from "./protocol.ts";
import { type Tail, tailBucket, type TailEntry } from "./tail.ts";

/** Whether a record's agent beat recently (within three periods, and a second of clock skew). */
export function isAlive(r: AgentRecord, now = Date.now()): boolean {
  return !r.stopping && now - r.beat < 3 * r.every + 1_000;
}

/** The agents of one cluster, as their records say. */
export class AgentsView {
  #records = new Map<string, AgentRecord>();
  #tail: Tail | undefined;

  /** Starts following the records; resolves once those there now are read. */
  async start(engine: Engine): Promise<void> {
    this.#tail = tailBucket(
      engine,
      engine.names.metaBucket,
      "agent.>",
      "last_per_subject",
      (e) => this.#apply(e),
    );
    await this.#tail.start();
  }

  #apply(e: TailEntry): void {
    const id = e.key.slice("agent.".length);
    if (e.operation !== "PUT") {
      this.#records.delete(id);
      return;
    }
    try {
      this.#records.set(id, JSON.parse(new TextDecoder().decode(e.value)));
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

  /** Stops following. */
  async close(): Promise<void> {
    await this.#tail?.stop();
  }
}
