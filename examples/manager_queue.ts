/**
 * The seed article's second example, ported: a manager's queue handed to a
 * pool's writer and reader tasks. Pool workers inherit nothing, so a plain
 * queue of the parent would do too here; a manager's queue is what also
 * reaches processes that did not start from this one.
 *
 * Run it with `deno run -A examples/manager_queue.ts`.
 */
import { Manager, Pool, type Queue } from "../mod.ts";

/** A writer task: puts one message. */
export async function writer(i: number, q: Queue<string>): Promise<void> {
  await q.put(`I am process ${i} (pid ${Deno.pid})`);
}

/** A reader task: gets one message and returns it. */
export async function reader(_i: number, q: Queue<string>): Promise<string> {
  return await q.get();
}

if (import.meta.main) {
  await using manager = await Manager.start();
  const q = await manager.Queue<string>();
  const pool = new Pool();
  // Writers first: a pool worker runs its tasks one at a time.
  const writes = Array.from({ length: 10 }, (_, i) => pool.applyAsync(writer, [i, q]));
  const reads = Array.from({ length: 10 }, (_, i) => pool.applyAsync(reader, [i, q]));
  await Promise.all(writes);
  for (const read of reads) console.log(await read);
  pool.close();
  await pool.join();
}
