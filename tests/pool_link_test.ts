// A worker thread's own port to its pool (_internal/pool/port_link.ts):
// values go as they were at the send, in order, then the end; what is not
// the protocol is refused by the engine, which goes on with a new worker.
import { assertEquals, assertInstanceOf, assertRejects } from "@std/assert";
import { EOFError, Process, WorkerDiedError } from "../mod.ts";
import { PortLink, portPair } from "../_internal/pool/port_link.ts";
import { type LaunchedWorker, PoolEngine } from "../_internal/pool/engine.ts";
import type { TaskBatch } from "../_internal/pool/worker.ts";
import type { TargetRef } from "../_internal/process/target.ts";
import { TRANSFER } from "../_internal/base/symbols.ts";
import { TARGETS } from "./_helpers.ts";

/** Both ends of a fresh port pair. */
async function linked(): Promise<[PortLink, PortLink]> {
  const { port1, port2 } = await portPair();
  return [new PortLink(port1), new PortLink(port2)];
}

Deno.test("PortLink: values arrive as they were at the send, in order (JSON text and structured clone), then the end", async () => {
  const [a, b] = await linked();
  const json = { x: 1, list: [1] };
  const map = new Map([["k", [1]]]);
  await a.send(json);
  await a.send(map);
  await a.send("text");
  json.x = 2;
  json.list.push(2);
  map.get("k")!.push(2);
  a.close();
  assertEquals(await b.recv(), { x: 1, list: [1] });
  assertEquals(await b.recv(), new Map([["k", [1]]]));
  assertEquals(await b.recv(), "text");
  await assertRejects(() => b.recv(), EOFError);
  await assertRejects(() => a.send(1), EOFError);
  b.close();
});

Deno.test("PortLink: a pending receive ends with EOFError when the other end closes; an unclonable value is refused at the send", async () => {
  const [a, b] = await linked();
  const pending = b.recv();
  await assertRejects(() => a.send({ f: () => {} }), DOMException);
  a.close();
  await assertRejects(() => pending, EOFError);
  b.close();
});

Deno.test("PortLink: what is not JSON text arrives as it came, for the protocol check to refuse", async () => {
  const { port1, port2 } = await portPair();
  const b = new PortLink(port2);
  port1.postMessage("{not json");
  assertEquals(await b.recv(), "{not json");
  port1.close();
  b.close();
});

const FN: TargetRef = {
  module: "file:///x.ts",
  exportName: "f",
  fingerprint: "0",
  kind: "function",
};

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
    process: {
      name: `Worker-${n}`,
      pid: n,
      get exitCode() {
        return exitCode;
      },
      isAlive: () => exitCode === null,
      kill: () => end(-9),
      join: () => joined,
    },
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

Deno.test("Process: a transfer is refused for a subprocess child, which cannot take one", async () => {
  const { port1, port2 } = await portPair();
  const p = new Process({
    target: () => {},
    args: [port2],
    module: TARGETS,
    startMethod: "subprocess",
    [TRANSFER]: [port2],
  } as never);
  await assertRejects(() => p.start(), TypeError, "only a worker child takes a transfer");
  port1.close();
  port2.close();
});
