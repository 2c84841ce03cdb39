/**
 * `Deno.exit()` in a worker child: patched to throw {@link WorkerExit},
 * which unwinds the target so the child can report its exit code (Deno
 * would end the worker silently).
 *
 * @module
 */

/** Thrown by the patched `Deno.exit` in a worker child, to unwind the target. */
export class WorkerExit extends Error {
  constructor(readonly code: number) {
    super(`Deno.exit(${code})`);
  }
}

/** How a child ends: with its exit code. */
export type Exit = (code: number) => Promise<never> | never;
