/**
 * Locks, a barrier and a shared value between a worker child and a
 * subprocess child: each adds to a shared counter under a lock, then all
 * three processes meet at a barrier.
 *
 * Run it with `deno run -A examples/sync_counter.ts`.
 */
import { Barrier, Lock, Process, Value } from "../mod.ts";

/** A child: 1,000 locked read-add-writes, one atomic add, then the barrier. */
export async function work(lock: Lock, total: Value, barrier: Barrier): Promise<void> {
  for (let i = 0; i < 1000; i++) {
    await lock.withLock(async () => await total.set((await total.get() as number) + 1));
  }
  await total.add(1); // atomic without the lock
  await barrier.wait(); // everyone waits for everyone
}

if (import.meta.main) {
  await using lock = new Lock();
  await using total = new Value("i", 0);
  await using barrier = new Barrier(3);
  const children = (["worker", "subprocess"] as const).map((startMethod) =>
    new Process({ target: work, args: [lock, total, barrier], startMethod })
  );
  for (const p of children) await p.start();
  const t0 = performance.now();
  await barrier.wait();
  for (const p of children) await p.join();
  console.log(
    `counter: ${await total.get()} (expected 2002), children exited with ${
      children.map((p) => p.exitCode).join(", ")
    }, ${(performance.now() - t0).toFixed(0)} ms`,
  );
}
