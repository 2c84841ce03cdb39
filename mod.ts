/**
 * Python's `multiprocessing`, rebuilt for Deno: run functions in other OS
 * processes (`startMethod: "subprocess"`) or in Web Workers
 * (`startMethod: "worker"`) with one API.
 *
 * Targets are functions exported from a module; children import that module
 * as an ordinary module, so guard the code that starts processes with
 * `if (import.meta.main)`, as Python programs guard theirs with
 * `if __name__ == "__main__":`.
 *
 * @example Start a child, wait for it, read its exit code
 * ```ts
 * import { Process } from "@mp/multiprocessing";
 * import { exitWith } from "@mp/multiprocessing/targets";
 * import { assertEquals } from "@std/assert";
 *
 * // A program exports its targets from its main module; here they come
 * // from the package's ready-made ones.
 * const module = import.meta.resolve("@mp/multiprocessing/targets");
 *
 * for (const startMethod of ["subprocess", "worker"] as const) {
 *   await using p = new Process({ target: exitWith, args: [7], module, startMethod });
 *   await p.start();
 *   await p.join();
 *   assertEquals(p.exitCode, 7);
 * }
 * ```
 *
 * @module
 */

// Every module the lines below load, named in one module so that Deno reads
// them at once, in the order they evaluate in anyway (tools/preload.ts).
import "./_preload.ts";
export * from "./process.ts";
export * from "./context.ts";
export * from "./queue.ts";
export * from "./pool.ts";
export * from "./manager.ts";
export * from "./synchronize.ts";
export * from "./shared.ts";
export { Client, Connection, EOFError, Listener, Pipe, wait } from "./connection.ts";
export type { ListenerAddress, ListenerOptions, Waitable } from "./connection.ts";
