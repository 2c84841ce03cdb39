/**
 * What an agent does with one task message: verify it, check where its
 * function comes from, run its tasks on the local pool, record the outcome
 * in the result entry (compare-and-set: a duplicate completion finds the
 * tasks taken and is dropped), then ack, or nak a message whose worker
 * process died so that it is tried again.
 *
 * @module
 */

import { type AnyFn, errorToData, findTarget, fingerprint, withoutCallSite } from "./core.ts";
import type { AgentContext } from "./agent_context.ts";
import { fillGaps, readAgents } from "./attempts.ts";
import { ack, type Delivery, nak, term } from "./puller.ts";
import type { AttemptRecord, Death, Outcome, ResultEntry, TaskBatch } from "./protocol.ts";
import { unseal } from "./seal.ts";
import { readEntry, writeEntry } from "./results.ts";

/** Runs one task message to its end (ack, nak or term). */
export async function handleDelivery(ctx: AgentContext, d: Delivery): Promise<void> {
  const msgId = d.headers?.get("Nats-Msg-Id") ?? "";
  let batch: TaskBatch;
  try {
    batch = await unseal(ctx.engine.key, d.data, "a task") as TaskBatch;
    if (batch?.kind !== "tasks" || batch.id !== msgId || !Array.isArray(batch.tasks)) {
      throw new TypeError("Cannot accept a task: its body does not match its message");
    }
  } catch (err) {
    return await ctx.refuse(d, msgId, (err as Error).message, undefined);
  }
  const module = ctx.resolveModule(batch.fn.module, batch.fn.rel);
  if (!ctx.allowed(module)) {
    const why = `module ${module} is not under this agent's modules (${ctx.modules.join(", ")})`;
    return await ctx.refuse(d, msgId, why, batch);
  }
  let fn: AnyFn;
  try {
    fn = await cachedTarget(ctx, module, batch.fn.exportName, batch.fn.fingerprint);
  } catch (err) {
    const out = batch.tasks.map((): Outcome => ({ err: errorToData(err), a: d.deliveries }));
    return await finish(ctx, d, batch, out, attempt(ctx, d, "completed"), undefined);
  }
  const prior = d.deliveries > 1 ? await readEntry(ctx.engine, batch.id) : undefined;
  const out: (Outcome | null)[] = prior?.entry.out.slice() ?? batch.tasks.map(() => null);
  const deaths: Record<number, Death> = {};
  await Promise.all(batch.tasks.map(async (calls, i) => {
    if (out[i]) return; // Done in an earlier attempt.
    try {
      out[i] = { ok: await ctx.run(fn, module, calls), a: d.deliveries };
    } catch (err) {
      const death = ctx.workerDeath(err);
      if (death) deaths[i] = death;
      else out[i] = { err: errorToData(withoutCallSite(err)), a: d.deliveries };
    }
  }));
  const died = Object.keys(deaths).length > 0;
  const record: AttemptRecord = attempt(ctx, d, died ? "worker died" : "completed");
  if (died) record.deaths = deaths;
  await finish(ctx, d, batch, out, record, prior);
}

function attempt(ctx: AgentContext, d: Delivery, outcome: AttemptRecord["outcome"]): AttemptRecord {
  return { attempt: d.deliveries, host: ctx.engine.host, agent: ctx.id, pid: Deno.pid, outcome };
}

/**
 * Writes what this attempt learnt, then acks; or naks (tasks whose worker
 * died, attempts left), so that the message comes back after a backoff.
 */
async function finish(
  ctx: AgentContext,
  d: Delivery,
  batch: TaskBatch,
  out: (Outcome | null)[],
  record: AttemptRecord,
  prior: Awaited<ReturnType<typeof readEntry>>,
): Promise<void> {
  let history = prior?.entry.history ?? [];
  if (history.length < d.deliveries - 1) {
    const agents = await readAgents(ctx.engine).catch(() => []);
    history = fillGaps(history, d.deliveries, batch.id, agents, ctx.id);
  }
  history = [...history.slice(0, d.deliveries - 1), record];
  const retry = record.outcome === "worker died" && d.deliveries < ctx.engine.settings.maxAttempts;
  if (!retry) {
    out = out.map((o) => o ?? { failed: true, a: d.deliveries });
    ctx.counters.failed += out.filter((o) => o && "failed" in o).length;
  }
  const entry: ResultEntry = { kind: "results", id: batch.id, history, out };
  await writeEntry(ctx.engine, entry, prior?.revision, () => ctx.stopped());
  ctx.counters.done += out.filter((o) => o && !("failed" in o) && o.a === d.deliveries).length;
  if (retry) {
    ctx.counters.retried++;
    // Backoff: 250 ms, 500 ms, … up to half a lease.
    const delay = Math.min(ctx.engine.settings.ackWait / 2, 250 * 2 ** (d.deliveries - 1));
    nak(ctx.engine.nc, d, delay);
  } else {
    ack(ctx.engine.nc, d);
  }
}

/**
 * The exported function a task names, from this host's copy of its module;
 * a copy that differs fails the task, naming host and module.
 */
async function importTarget(
  ctx: AgentContext,
  module: string,
  exportName: string,
  print: string,
): Promise<AnyFn> {
  const mod = await ctx.importModule(module);
  try {
    return findTarget(
      mod,
      { module, exportName, fingerprint: print, kind: "function" },
      "run task",
    );
  } catch {
    const there = mod[exportName];
    const why = typeof there === "function"
      ? `its copy of ${module} differs from the submitter's: '${exportName}' has other source ` +
        `(fingerprint ${fingerprint(there)}, the submitter's ${print}); ` +
        `deploy the same version of the module on every host`
      : `${module} there does not export a function '${exportName}'`;
    throw new TypeError(`Cannot run task on host ${ctx.engine.host}: ${why}`);
  }
}

/** Targets found so far, per agent: finding one hashes the source of every export. */
const targets = new WeakMap<AgentContext, Map<string, Promise<AnyFn>>>();

function cachedTarget(ctx: AgentContext, module: string, name: string, print: string) {
  let mine = targets.get(ctx);
  if (!mine) targets.set(ctx, mine = new Map());
  const key = `${module}\n${name}\n${print}`;
  let found = mine.get(key);
  if (!found) {
    mine.set(key, found = importTarget(ctx, module, name, print));
    found.catch(() => mine.delete(key)); // A module fixed on disk may do next time.
  }
  return found;
}

/** Ends a message an agent will not run: never delivered again. */
export function drop(ctx: AgentContext, d: Delivery): void {
  term(ctx.engine.nc, d);
}
