/**
 * The target of a warm spare's rehearsal, run once before its first task
 * (see `child_linked.ts`): a module no program loads otherwise, so that the
 * spare's module loader reads a new file as it will for its task's module.
 *
 * @module
 */

/** Does nothing. */
export function rehearsal(): void {}
