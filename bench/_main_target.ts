// A program as its user writes one: the target beside the code that starts
// it, in a module that imports the package's entry. A child imports this
// module, so it loads the whole package before its target runs (Python's
// spawned child likewise imports the main module, and `multiprocessing`).

import { Process } from "../mod.ts";

/** Does nothing: what is measured is the child's start with the package loaded. */
export function work(): void {}

if (import.meta.main) {
  const p = new Process({ target: work });
  await p.start();
  await p.join();
}
