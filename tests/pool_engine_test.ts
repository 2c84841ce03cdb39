// The pool engine's worker lifecycle with scripted workers (no processes):
// failed starts are retried, and only consecutive failures with no live
// worker break the pool; over real ports (a worker thread's link), a worker
// whose message is not the protocol is stopped, and the pool goes on.
import { assertEquals, assertInstanceOf, assertRejects, assertStringIncludes } from "@std/assert";
import { BrokenPoolError, EOFError, WorkerDiedError } from "../mod.ts";
import { type LaunchedWorker, PoolEngine, type WorkerProcess } from "../_internal/pool/engine.ts";
import { PortLink, portPair } from "../_internal/pool/port_link.ts";
import type { TaskBatch } from "../_internal/pool/protocol.ts";
import type { TargetRef } from "../_internal/process/target.ts";

const FN: TargetRef = {
  module: "file:///x.ts",
  exportName: "f",
  fingerprint: "0",
  kind: "function",
};

/** A worker's process as the engine sees it, its exit code and kill scripted. */
function scriptedProcess(
  n: number,
  exitCode: () => number | null,
  kill: () => void,
  join = () => Promise.resolve(),
): WorkerProcess {
  return {
    name: `Worker-${n}`,
    pid: n,
    get exitCode() {
      return exitCode();
    },
    isAlive: () => exitCode() === null,
    kill,
    join,
  };
}

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
    process: scriptedProcess(n, () => exitCode, () => {
      exitCode = -9;
      closed = true;
      wake?.();
    }),
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

/**
 * A scripted worker on a real port: ready, then each task's argument
 * doubled; the first worker answers its first batch with what is not the
 * protocol instead.
 */
async function portWorker(n: number): Promise<LaunchedWorker> {
  const { port1, port2 } = await portPair();
  const worker = new PortLink(port2);
  let exitCode: number | null = null;
  let exited!: () => void;
  const joined = new Promise<void>((r) => exited = r);
  const end = (code: number) => {
    exitCode ??= code;
    worker.close();
    exited();
  };
  (async () => {
    await worker.send({ ready: true });
    while (true) {
      const m = await worker.recv().catch(() => ({ stop: true })) as TaskBatch | { stop: true };
      if ("stop" in m) return end(0);
      if (n === 1) {
        port2.postMessage("{not the protocol");
        continue;
      }
      const results = m.tasks.map((t) => ({
        id: t.id,
        value: t.calls.map((c) => (c as number) * 2),
      }));
      await worker.send({ results });
    }
  })();
  return {
    process: scriptedProcess(n, () => exitCode, () => end(-9), () => joined),
    conn: new PortLink(port1, true),
    started: Promise.resolve(),
  };
}

Deno.test("PoolEngine over ports: a worker whose message is not the protocol is stopped, its task fails, and a new worker runs the rest", async () => {
  let n = 0;
  const engine = new PoolEngine({
    processes: 1,
    maxTasksPerChild: 0,
    pack: {},
    launch: () => portWorker(++n),
  });
  const first = engine.submit(FN, [1], false);
  const err = await assertRejects(() => first, WorkerDiedError);
  assertInstanceOf(err, WorkerDiedError);
  assertEquals(await engine.submit(FN, [2, 3], false), [4, 6]);
  assertEquals(n, 2);
  engine.close();
  await engine.join();
});
