/**
 * The entry of a child started cold: a `deno run` subprocess whose ticket
 * (`Deno.args[0]`) says its task comes on stdin, after its authkey, and
 * whose start it reports on stderr (`start_report.ts`); EOF on stdin means
 * the parent is gone. A child never starts in the user's main module: it
 * imports its target's module as an ordinary module, so code under
 * `if (import.meta.main)` does not run in a child, as code under Python's
 * `if __name__ == "__main__":` does not.
 *
 * Children start in its bundle, `child_cold.js` (see {@link CHILD_ENTRY_URL}):
 * after a change here or in a module this one imports, `deno task bundle`.
 *
 * Children that take their task over a channel (workers, spares, children
 * that report a value, compiled binaries' children) and cold ones whose
 * task has handles start in `child_linked.ts`. This entry imports none of
 * what those need, not even by `import("…")`: `deno run` loads a module's
 * statically analysable dynamic imports, and theirs, before it runs it
 * (they cost a cold child 1 ms, measured with `--unstable-lazy-dynamic-imports`,
 * which would make them need read access at run time).
 *
 * @module
 */

import type { TaskSpec } from "./task_spec.ts";
import { decodeTicket } from "./ticket.ts";
import { decodeAsync, encode } from "../wire/codec.ts";
import { reportFailed, reportStarted } from "./start_report.ts";
import {
  authkeyFromStdin,
  bootstrap,
  runChild,
  type TakeHandles,
  watchParent,
} from "./child_run.ts";

/**
 * URL of the module a child started cold without handles starts in: this
 * module and what it imports, bundled into one JavaScript module by
 * `deno task bundle` (`tools/child_bundle.ts`). Deno loaded that in 1.2 ms
 * less than these fourteen TypeScript modules; a target that imports the
 * package no longer loads them (`standalone.ts`), so it loads nothing twice.
 */
export const CHILD_ENTRY_URL: string = new URL("./child_cold.js", import.meta.url).href;

/**
 * A `deno run` child started cold: its key and its task on stdin, its
 * start reported on stderr (`start_report.ts`). It connects to nothing
 * before its target runs: a connection, its handshake and the round trip
 * for the task took 3-4 ms of a start of about 25.
 */
export async function coldMain(takeHandles?: TakeHandles): Promise<never> {
  // Blocking: it does nothing else until its task is read.
  const launch = await authkeyFromStdin(() => Deno.exit(1), true);
  const task = launch.task;
  if (!task) throw new TypeError("Cannot start: the launch key came without the task");
  const spec = await decodeAsync(task.payload) as TaskSpec;
  const reporter = {
    async send(m: unknown): Promise<void> {
      const msg = m as { op?: string; error?: unknown };
      if (msg.op === "started") reportStarted(task.nonce);
      // Encoded as the launch channel would: a thrown Map or BigInt arrives as it was.
      else if (msg.op === "failed") reportFailed(task.nonce, await encode(msg.error));
      // A child that reports a value is never started cold.
      else throw new TypeError(`A cold-started child cannot send '${msg.op}'`);
    },
  };
  const key = { key: launch.key, kid: launch.kid };
  const importing = bootstrap(spec, key);
  // Watched from here: the first asynchronous read overlaps the import.
  watchParent(() => Deno.exit(1));
  return runChild(reporter, spec, key, (code) => Deno.exit(code), importing, takeHandles);
}

if (import.meta.main) {
  // Only a child started cold without handles starts here (the parent
  // picks its entry); the others start in `child_linked.ts`.
  if (!decodeTicket(Deno.args[0]).stdin) {
    console.error("deno-multiprocessing: this entry starts children that take their task on stdin");
    Deno.exit(2);
  }
  coldMain();
}
