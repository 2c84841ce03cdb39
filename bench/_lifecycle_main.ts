// The program bench/lifecycle.ts kills: starts two children of a start
// method, busy or idle (or a Pool(2) at work), prints "ready" once they run,
// then waits to be killed.
import { Pool, Process, type StartMethod } from "../mod.ts";
import { idle, spinFor } from "./_targets.ts";

const module = new URL("./_targets.ts", import.meta.url);

if (import.meta.main) {
  const [startMethod, kind] = Deno.args as [StartMethod, "busy" | "idle" | "pool"];
  if (kind === "pool") {
    const pool = new Pool({ processes: 2, module, startMethod });
    pool.map(spinFor, Array(100).fill(300)).catch(() => {});
    await pool.apply(spinFor, [0]).catch(() => {}); // the workers are up
  } else {
    for (let i = 0; i < 2; i++) {
      const target = kind === "busy" ? spinFor : idle;
      await new Process({ target, args: [600_000], module, startMethod }).start();
    }
  }
  console.log("ready");
  setInterval(() => {}, 1000);
}
