// The same program as `_main_target.ts`, importing only what it uses: the
// package's `./process` entry (`@mp/multiprocessing/process`), not the whole.

import { Process } from "../process.ts";

/** Does nothing: what is measured is the child's start with `Process` loaded. */
export function work(): void {}

if (import.meta.main) {
  const p = new Process({ target: work });
  await p.start();
  await p.join();
}
