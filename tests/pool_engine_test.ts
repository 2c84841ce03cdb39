// The pool engine's worker lifecycle with scripted workers (no processes):
// failed starts are retried, and only consecutive failures with no live
// worker break the pool.
import { assertEquals, assertInstanceOf, assertRejects, assertStringIncludes } from "@std/assert";
import { BrokenPoolError, EOFError } from "../mod.ts";
import { type LaunchedWorker, PoolEngine } from "../_internal/pool/engine.ts";
import type { TargetRef } from "../_internal/process/target.ts";

const FN: TargetRef = {
  module: "file:///x.ts",
  exportName: "f",
  fingerprint: "0",
  kind: "function",
};

/** A scripted worker: answers each task with its argument doubled. */
function fakeWorker(n: number, startOk: boolean): LaunchedWorker {
  const inbox: unknown[] = [{ ready: true }];
  let wake: (() => void) | undefined;
  let closed = false, exitCode: number | null = null;
  const push = (m: unknown) => {
    inbox.push(m);
    wake?.();
  };
  return {
    process: {
      name: `Worker-${n}`,
      pid: n,
      get exitCode() {
        return exitCode;
      },
      isAlive: () => exitCode === null,
      kill: () => {
        exitCode = -9;
        closed = true;
        wake?.();
      },
      join: () => Promise.resolve(),
    },
    conn: {
      send(value: unknown) {
        const m = value as { tasks?: { id: number; calls: unknown[][] }[]; stop?: boolean };
        if (m.stop) {
          exitCode = 0;
          closed = true;
          wake?.();
        }
        for (const t of m.tasks ?? []) {
          push({ results: [{ id: t.id, value: t.calls.map((c) => (c[0] as number) * 2) }] });
        }
        return Promise.resolve();
      },
      async recv() {
        while (inbox.length === 0) {
          if (closed) throw new EOFError("closed");
          await new Promise<void>((r) => (wake = r));
        }
        return inbox.shift();
      },
      close() {
        closed = true;
        wake?.();
      },
    },
    started: startOk
      ? Promise.resolve()
      : Promise.reject(new Error(`start ${n} failed`)).finally(() => (exitCode = 1)),
  };
}

function engineWith(outcomes: boolean[]): { engine: PoolEngine; launches: () => number } {
  let n = 0;
  const engine = new PoolEngine({
    processes: 1,
    maxTasksPerChild: 0,
    pack: {},
    launch: () => fakeWorker(++n, outcomes[n - 1] ?? true),
  });
  return { engine, launches: () => n };
}

Deno.test("PoolEngine retries a failed worker start and runs every queued task", async () => {
  const { engine, launches } = engineWith([false, false, true]);
  const results = await Promise.all([1, 2, 3].map((x) => engine.submit(FN, [[x]])));
  assertEquals(results, [[2], [4], [6]]);
  assertEquals(launches(), 3);
  engine.close();
  await engine.join();
});

Deno.test("PoolEngine breaks after three consecutive failed starts, naming the last error", async () => {
  const { engine, launches } = engineWith([false, false, false, true]);
  const queued = engine.submit(FN, [[1]]);
  const err = await assertRejects(() => queued, BrokenPoolError) as BrokenPoolError;
  assertStringIncludes(err.message, "start 3 failed");
  assertInstanceOf(err.cause, Error);
  await assertRejects(() => engine.submit(FN, [[2]]), BrokenPoolError, "start 3 failed");
  assertEquals(launches(), 3);
  engine.close();
  await engine.join();
});
