/**
 * How a compiled binary learns that it was started as a child or as a
 * reaper: the binary runs the user's main module, which imports the
 * library, which imports this module before the main module's body runs.
 * Started with a marker (`ticket.ts`), it holds that body for ever (a
 * top-level await that never settles) and becomes what it was started as.
 *
 * What it becomes loads only then: a program that imports the library
 * loads this module and the markers, not the child entry (eight modules,
 * 42 KB, which every program loaded before). The imports are literal, so
 * `deno compile` embeds both.
 *
 * @module
 */

import { inWorker } from "../base/state.ts";
import { CHILD_MARKER, REAPER_MARKER } from "./ticket.ts";

if (!inWorker() && Deno.args[0] === CHILD_MARKER) {
  // The wait is the point: it holds the main module's body, while a worker
  // imports the main module in its own module map (`child_linked.ts`).
  await (await import("./child_linked.ts")).hostStandalone();
} else if (!inWorker() && Deno.args[0] === REAPER_MARKER) {
  // Started as its parent's reaper: the same hold.
  await (await import("./reaper_main.ts")).runReaper(Deno.args.slice(1));
}
