/**
 * Filling in attempts nobody reported: an agent that dies (or is cut off)
 * while it holds a task message writes nothing; its lease expires and the
 * message is delivered again. Its heartbeat record listed the messages it
 * held, so the attempt is put down to its host, as "lease expired".
 *
 * @module
 */

import type { Engine } from "./engine.ts";
import type { AgentRecord, AttemptRecord } from "./protocol.ts";

/**
 * The agents' heartbeat records in the shared-state bucket: the subjects
 * from the stream's info, then each one's last message (no consumer made,
 * as the client's `keys()` would).
 */
export async function readAgents(engine: Engine): Promise<AgentRecord[]> {
  const bucket = engine.names.metaBucket;
  const prefix = `$KV.${bucket}.agent.`;
  const info = await engine.jsm.streams.info(`KV_${bucket}`, { subjects_filter: `${prefix}>` });
  const out: AgentRecord[] = [];
  for (const subject of Object.keys(info.state.subjects ?? {})) {
    const m = await engine.jsm.streams.getMessage(`KV_${bucket}`, { last_by_subj: subject })
      .catch(() => null);
    const op = m?.header?.get("KV-Operation");
    if (!m || op === "DEL" || op === "PURGE") continue;
    try {
      out.push(m.json<AgentRecord>());
    } catch {
      // Not a record of ours: skip it.
    }
  }
  return out;
}

/**
 * `history` with an entry for every attempt before `upTo` (1-based,
 * exclusive): the missing ones expired; an agent whose last heartbeat
 * listed message `id` (other than the agent `self`, which holds it now) is
 * named as their host.
 */
export function fillGaps(
  history: readonly AttemptRecord[],
  upTo: number,
  id: string,
  agents: readonly AgentRecord[],
  self?: string,
): AttemptRecord[] {
  const known = new Map(history.map((a) => [a.attempt, a]));
  // Agents that held it, the longest gone first: the earliest attempts.
  const holders = agents.filter((r) => r.id !== self && r.held.includes(id))
    .sort((a, b) => a.beat - b.beat);
  const out: AttemptRecord[] = [];
  for (let n = 1; n < upTo; n++) {
    const seen = known.get(n);
    if (seen) {
      out.push(seen);
      continue;
    }
    const holder = holders.shift();
    out.push({
      attempt: n,
      host: holder?.host ?? "unknown host",
      agent: holder?.id,
      pid: holder?.pid,
      outcome: "lease expired",
    });
  }
  return out;
}
