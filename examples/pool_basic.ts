/**
 * The seed article's first example, ported: Pool(3), ten tasks submitted
 * with applyAsync, each reporting the pid that ran it; close(), join();
 * workers are reused.
 *
 * Run it with `deno run -A examples/pool_basic.ts`.
 */
import { Pool } from "../mod.ts";

/** A task: exported, so the workers can find it in this module. */
export async function work(n: number): Promise<string> {
  await new Promise((r) => setTimeout(r, 50));
  return `task ${n} ran in pid ${Deno.pid}`;
}

if (import.meta.main) {
  const pool = new Pool(3);
  const results = Array.from({ length: 10 }, (_, n) => pool.applyAsync(work, [n]));
  for (const result of results) console.log(await result.get());
  pool.close();
  await pool.join();
  const pids = new Set((await Promise.all(results)).map((line) => line.split(" ").at(-1)));
  console.log(`${results.length} tasks ran in ${pids.size} worker processes`);
}
