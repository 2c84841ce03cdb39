// The floor of a worker child: a module worker that says it is up, as a
// Process child reports that it runs its target. The cast is needed because
// these files type-check against the main-thread globals, which lack it.
// A node:worker_threads Worker has the same global postMessage.
(globalThis as unknown as { postMessage(message: unknown): void }).postMessage(0);
