/**
 * Memory of manager connection cycles (issue #12, items 2 and 4), in one
 * process, printed as JSON:
 *
 *     deno run -A --v8-flags=--expose-gc bench/manager_cycles.ts [--cycles 1000] [--starts 100]
 *
 * Two loops, each measured after a full GC against the heap and RSS before
 * it: `--cycles` connect/dispose cycles of a `BaseManager` client of one
 * running manager (each makes a list through its client and reads it back,
 * while a proxy of the owner is used every cycle), then `--starts`
 * start/shutdown cycles of a `Manager`. It reports the growth per cycle,
 * the exit hooks and connections left, and how many cycles failed (a
 * before-tree whose dispose broke the shared connection fails most).
 *
 * @module
 */

import { BaseManager, Manager } from "../manager.ts";
import type { ListProxy } from "../manager.ts";
import { state } from "../_internal/base/state.ts";
import { registry } from "../_internal/hub/registry.ts";

const gc = (globalThis as unknown as { gc?: () => void }).gc;

function arg(name: string, fallback: number): number {
  const i = Deno.args.indexOf(name);
  return i >= 0 ? Number(Deno.args[i + 1]) : fallback;
}

async function settle(): Promise<{ heap: number; rss: number }> {
  for (let i = 0; i < 3; i++) {
    gc?.();
    await new Promise((r) => setTimeout(r, 50));
  }
  const m = Deno.memoryUsage();
  return { heap: m.heapUsed, rss: m.rss };
}

const MiB = 2 ** 20;

async function connectCycles(n: number) {
  await using m = await Manager.start();
  const d = await m.dict<string, number>({ n: 0 });
  let failed = 0;
  // One cycle first: the code paths are compiled and the connection open.
  const before = await settle();
  const hooks = state().exitHooks.size;
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    try {
      const c = new BaseManager({ address: m.address, authkey: m.authkey });
      await c.connect();
      const l = await c.create<ListProxy<number>>("list", [i]);
      if ((await l.toArray())[0] !== i) throw new Error("wrong");
      await c[Symbol.asyncDispose]();
      await d.set("n", i);
    } catch {
      failed++;
    }
  }
  const ms = performance.now() - t0;
  const after = await settle();
  return {
    cycles: n,
    failed,
    ms_per_cycle: ms / n,
    heap_kib_per_cycle: (after.heap - before.heap) / 1024 / n,
    rss_mib: (after.rss - before.rss) / MiB,
    exit_hooks_left: state().exitHooks.size - hooks,
    objects_left: await m.liveObjects().catch(() => -1),
  };
}

async function startCycles(n: number) {
  const before = await settle();
  const hooks = state().exitHooks.size;
  const clients = registry().clients.size;
  let failed = 0;
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    try {
      const m = await Manager.start();
      const d = await m.dict({ i });
      if (await d.get("i") !== i) throw new Error("wrong");
      await m.shutdown();
    } catch {
      failed++;
    }
  }
  const ms = performance.now() - t0;
  const after = await settle();
  return {
    cycles: n,
    failed,
    ms_per_cycle: ms / n,
    heap_kib_per_cycle: (after.heap - before.heap) / 1024 / n,
    rss_mib: (after.rss - before.rss) / MiB,
    exit_hooks_left: state().exitHooks.size - hooks,
    connections_left: registry().clients.size - clients,
  };
}

if (import.meta.main) {
  if (!gc) console.error("Run with --v8-flags=--expose-gc for figures after a full GC");
  const connect = await connectCycles(arg("--cycles", 1000));
  const start = await startCycles(arg("--starts", 100));
  console.log(JSON.stringify({ connect_dispose: connect, start_shutdown: start }, null, 2));
}
