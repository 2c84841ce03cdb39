// Targets of the start-up benchmarks. A child imports this module, so it stays
// as small as a target module can be: what remains of a child's start is the
// library's own cost, not the user's imports.

/** Does nothing: a child running it measures start-up and exit alone. */
export function empty(): void {}
