/**
 * A cluster's figures, read from the server: per stream (tasks, and each
 * queue) what waits, what is leased, what was redelivered and what was
 * dead-lettered; the agents with their hosts, slots and last heartbeat; and
 * the same as a table for a terminal.
 *
 * @module
 */

import type { Engine } from "./engine.ts";
import { readAgents } from "./attempts.ts";
import { isAlive } from "./agents_view.ts";
import type { AgentRecord } from "./protocol.ts";

/** One stream's figures. */
export interface StreamStatus {
  /** `"tasks"` for the pools' stream, `"queue"` for a queue's. */
  kind: "tasks" | "queue";
  /** `"tasks"`, or the queue's name. */
  name: string;
  /** Messages waiting to be taken. */
  pending: number;
  /** Messages taken and not yet acknowledged (leased). */
  inFlight: number;
  /** Messages delivered more than once that are not yet acknowledged. */
  redelivered: number;
  /** Messages refused or out of deliveries, in the dead-letter stream. */
  deadLettered: number;
}

/** An agent as its last heartbeat describes it. */
export interface AgentStatus extends AgentRecord {
  /** Whether it beat within three heartbeat periods. */
  alive: boolean;
  /** When it last beat. */
  lastHeartbeat: Date;
}

/** What `Cluster.status()` resolves. */
export interface ClusterStatus {
  /** The cluster's name. */
  cluster: string;
  /** Lease of a task message (ms), and deliveries before it fails. */
  settings: { ackWait: number; maxAttempts: number; replicas: number };
  /** The tasks stream first, then every queue's, by name. */
  streams: StreamStatus[];
  /** Every agent with a record, alive or gone, the oldest first. */
  agents: AgentStatus[];
  /** Task messages refused by the agents, all together. */
  refused: number;
}

const MS = 1_000_000;

async function deadCounts(engine: Engine): Promise<Record<string, number>> {
  const info = await engine.jsm.streams.info(engine.names.deadStream, { subjects_filter: ">" });
  return info.state.subjects ?? {};
}

async function queueNames(engine: Engine): Promise<string[]> {
  const prefix = engine.names.queueStreamPrefix;
  const out: string[] = [];
  for await (const name of engine.jsm.streams.names()) {
    if (name.startsWith(prefix)) out.push(name.slice(prefix.length));
  }
  return out.sort();
}

/** Reads the cluster's figures. */
export async function gatherStatus(engine: Engine): Promise<ClusterStatus> {
  const n = engine.names;
  const dead = await deadCounts(engine);
  const streams: StreamStatus[] = [];
  const one = async (
    kind: StreamStatus["kind"],
    name: string,
    stream: string,
    consumer: string,
  ) => {
    const c = await engine.jsm.consumers.info(stream, consumer).catch(() => undefined);
    const source = kind === "tasks" ? "tasks" : `q.${name}`;
    streams.push({
      kind,
      name,
      pending: c?.num_pending ?? 0,
      inFlight: c?.num_ack_pending ?? 0,
      redelivered: c?.num_redelivered ?? 0,
      deadLettered: dead[n.deadSubject(source)] ?? 0,
    });
  };
  await one("tasks", "tasks", n.tasksStream, n.consumer);
  for (const q of await queueNames(engine)) await one("queue", q, n.queueStream(q), "getters");
  const now = Date.now();
  const agents = (await readAgents(engine)).sort((a, b) => a.started - b.started)
    .map((r) => ({ ...r, alive: isAlive(r, now), lastHeartbeat: new Date(r.beat) }));
  const info = await engine.jsm.consumers.info(n.tasksStream, n.consumer);
  return {
    cluster: n.cluster,
    settings: {
      ackWait: Math.round((info.config.ack_wait ?? 0) / MS),
      maxAttempts: info.config.max_deliver ?? -1,
      replicas: engine.settings.replicas,
    },
    streams,
    agents,
    refused: agents.reduce((sum, a) => sum + a.refused, 0),
  };
}

function table(columns: string[], rows: string[][]): string {
  const width = columns.map((c, i) => Math.max(c.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => i === 0 ? c.padEnd(width[0]) : c.padStart(width[i])).join("  ");
  return [columns, ...rows].map(line).join("\n");
}

/** The figures as tables, for a terminal. */
export function formatStatus(s: ClusterStatus, now = Date.now()): string {
  const head = `cluster ${s.cluster}: lease ${s.settings.ackWait} ms, ` +
    `${s.settings.maxAttempts} attempts, ${s.settings.replicas} replica(s), ${s.refused} refused`;
  const streams = table(
    ["stream", "pending", "in flight", "redelivered", "dead-lettered"],
    s.streams.map((t) => [
      t.kind === "tasks" ? "tasks" : `queue ${t.name}`,
      ...[t.pending, t.inFlight, t.redelivered, t.deadLettered].map(String),
    ]),
  );
  const agents = s.agents.length === 0 ? "no agents" : table(
    [
      "agent",
      "host",
      "pid",
      "processes",
      "slots",
      "held",
      "done",
      "failed",
      "refused",
      "last beat",
    ],
    s.agents.map((a) => [
      a.id,
      a.host,
      String(a.pid),
      String(a.processes),
      String(a.slots),
      String(a.held.length),
      String(a.done),
      String(a.failed),
      String(a.refused),
      `${((now - a.beat) / 1000).toFixed(1)} s ago${a.alive ? "" : " (gone)"}`,
    ]),
  );
  return `${head}\n\n${streams}\n\n${agents}`;
}
