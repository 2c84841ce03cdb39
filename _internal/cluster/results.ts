/**
 * Result entries, written compare-and-set: a task's outcome is written
 * once. An agent that finds the entry changed under it (another agent ran
 * the same message after a lease expired) merges: it adds only outcomes the
 * entry lacks, so a duplicate completion is dropped.
 *
 * @module
 */

import { JetStreamApiError } from "./deps.ts";
import type { Engine } from "./engine.ts";
import { type ResultEntry, resultKey } from "./protocol.ts";
import { seal, unseal } from "./seal.ts";
import { backoff, sleep } from "./timing.ts";

const WRONG_LAST_SEQUENCE = [10071, 10164];

/** The entry of message `id` and its revision, if there is one this agent can trust. */
export async function readEntry(
  engine: Engine,
  id: string,
): Promise<{ entry: ResultEntry; revision: number } | undefined> {
  for (let i = 0; !engine.closed; i++) {
    try {
      const e = await engine.results.get(resultKey(id));
      if (!e || e.operation !== "PUT") return undefined;
      const entry = await unseal(engine.key, e.value, "a result entry").catch(() => undefined);
      if ((entry as ResultEntry | undefined)?.id !== id) return undefined;
      return { entry: entry as ResultEntry, revision: e.revision };
    } catch {
      await sleep(backoff(i)); // The server is away: try again.
    }
  }
  return undefined;
}

/**
 * Writes `entry` over `revision` (none: a new entry). Retries while the
 * broker is away, until `stopped` says so.
 */
export async function writeEntry(
  engine: Engine,
  entry: ResultEntry,
  revision: number | undefined,
  stopped: () => boolean,
): Promise<void> {
  const key = resultKey(entry.id);
  for (let i = 0; !engine.closed && !stopped(); i++) {
    try {
      const sealed = await seal(engine.key, entry);
      if (revision === undefined) await engine.results.create(key, sealed);
      else await engine.results.update(key, sealed, revision);
      return;
    } catch (err) {
      if (err instanceof JetStreamApiError && WRONG_LAST_SEQUENCE.includes(err.code)) {
        const now = await readEntry(engine, entry.id);
        if (!now) {
          // Another agent's entry we cannot trust, or none: nothing of ours to add over it.
          if (revision === undefined) return;
          revision = undefined;
          continue;
        }
        const merged = merge(now.entry, entry);
        if (!merged) return; // Every outcome is there already: a duplicate completion.
        entry = merged;
        revision = now.revision;
        continue;
      }
      await sleep(backoff(i));
    }
  }
}

/** `theirs` with the outcomes only `ours` has; undefined when there are none. */
function merge(theirs: ResultEntry, ours: ResultEntry): ResultEntry | undefined {
  let added = false;
  const out = theirs.out.map((o, i) => {
    if (o || !ours.out[i]) return o;
    added = true;
    return ours.out[i];
  });
  if (!added) return undefined;
  const history = [...theirs.history];
  for (const a of ours.history) if (!history.some((h) => h.attempt === a.attempt)) history.push(a);
  history.sort((a, b) => a.attempt - b.attempt);
  return { ...theirs, out, history };
}
