// A soak kept short for CI: pool maps whose workers die at random (in a task
// by Deno.exit, self.close() or SIGKILL, and while they start). Every task
// succeeds or fails with WorkerDiedError, none hangs or is lost, no zombie
// and no socket directory is left. Seeded: the seed is printed on failure.
import { assert, assertEquals, assertInstanceOf } from "@std/assert";
import { Pool, WorkerDiedError } from "../mod.ts";
import { dieOnStarts, doubleOrDie } from "./fixtures/pool_targets.ts";
import { descendants, survivors, tempDir, testBoth } from "./_helpers.ts";

const module = new URL("./fixtures/pool_targets.ts", import.meta.url).href;
const MAPS = 50;
const TASKS = 6;

/** A small seeded generator (mulberry32). */
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

testBoth(
  "Pool soak: workers dying at random lose no task and leave nothing behind",
  async (startMethod) => {
    const seed = Number(Deno.env.get("SOAK_SEED") ?? Date.now() % 1e9);
    const rand = random(seed);
    await using dir = await tempDir();
    // Starts that die, never three in a row (that would rightly break the pool).
    const kills = Array.from({ length: 8 }, (_, i) => 2 + 5 * i + Math.floor(rand() * 3));
    try {
      const pool = new Pool({
        processes: 2,
        module,
        startMethod,
        initializer: dieOnStarts,
        initargs: [dir.path, kills],
      });
      const hows = ["exit", "close", "kill"] as const;
      for (let m = 0; m < MAPS; m++) {
        const plan = Array.from(
          { length: TASKS },
          () => rand() < 0.1 ? hows[Math.floor(rand() * 3)] : "ok",
        );
        const results = await Promise.allSettled(
          plan.map((how, i) => pool.apply(doubleOrDie, [i, how])),
        );
        results.forEach((r, i) => {
          const where = `map ${m} task ${i} (${plan[i]})`;
          if (r.status === "rejected") {
            // A task whose worker died fails with WorkerDiedError: the one
            // running, or one that had finished but whose result had not yet
            // been written when its worker died.
            assertInstanceOf(r.reason, WorkerDiedError, where);
          } else {
            assertEquals(r.value, i * 2, where);
            // A task that ends its worker never succeeds (but self.close(),
            // which ends nothing in a subprocess).
            assert(
              plan[i] === "ok" || (plan[i] === "close" && startMethod === "subprocess"),
              where,
            );
          }
        });
      }
      const workers = descendants(Deno.pid);
      pool.close();
      await pool.join();
      assertEquals(await survivors(workers), [], "no worker outlives the pool");
      const left = [...Deno.readDirSync(dir.path)].filter((e) => e.name.startsWith("denomp-"));
      assert(left.length === 0);
    } catch (err) {
      console.error(`Pool soak failed with SOAK_SEED=${seed}`);
      throw err;
    }
  },
);
