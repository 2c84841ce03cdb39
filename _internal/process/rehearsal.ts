/**
 * A target of the library's own, which a warm spare imports and finds
 * once before its first task (see `child.ts`): a module no program loads
 * otherwise, so that the spare's module loader reads a new file as it will
 * for its task's module.
 *
 * @module
 */

/** Does nothing: found, never called. */
export function rehearsal(): void {}
