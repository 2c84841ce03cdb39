// The floor under a pool's dispatch (bench/pool_throughput.ts): bare
// workers, of each start method's backend (a node:worker_threads thread, a
// `deno run` process), connected to the parent over a Unix socket, echo
// batches of 64 no-op tasks in the library's encoding (its codec and
// framing: the same bytes a pool's task and result messages are), both
// directions, with no library in between: no hub, pipe, scheduler or worker
// loop. Each holds two batches at a time, as a pool worker does, and a
// sample starts fresh workers as a pool sample does (their JIT starts cold).
//
// This module is the echoing worker too: run with `--serve PATH`, or as a
// thread that is posted the path.

import { FrameReader, FrameWriter, HEADER } from "../_internal/wire/framing.ts";
import { decode, encodeSyncParts } from "../_internal/wire/codec.ts";
import { fingerprint } from "../_internal/process/target.ts";
import type { Results, TaskBatch } from "../_internal/pool/protocol.ts";
import { noop } from "./_pool.ts";

/** Tasks per message, as the issue sets the floor. */
const BATCH = 64;
/** Batches a worker holds at a time. */
const IN_FLIGHT = 2;
/** Tasks of the warm-up before the clock, as a pool sample's. */
const WARMUP_TASKS = 2_000;

/** Sends a message in the library's encoding. */
function send(writer: FrameWriter, msg: unknown): void {
  writer.write(encodeSyncParts(msg, HEADER)![0]).catch(() => {});
}

/** The echoing worker: runs each batch's no-op calls and sends their results. */
async function serve(path: string): Promise<void> {
  const conn = await Deno.connect({ transport: "unix", path });
  const reader = new FrameReader(conn), writer = new FrameWriter(conn);
  for (let frame = await reader.next(); frame !== null; frame = await reader.next()) {
    const { tasks } = decode(frame) as TaskBatch;
    const t0 = performance.now();
    const results = tasks.map((t) => ({ id: t.id, value: t.calls.map((x) => noop(x as number)) }));
    send(writer, { results, t: performance.now() - t0 } satisfies Results);
  }
  conn.close();
}

/** One connected worker, seen from the parent. */
interface Peer {
  reader: FrameReader;
  writer: FrameWriter;
  stop(): Promise<void>;
}

const FN = {
  module: new URL("./_pool.ts", import.meta.url).href,
  exportName: noop.name,
  fingerprint: fingerprint(noop),
  kind: "function" as const,
};

/** Runs `noop(i)` for i < n over the peers; resolves the results in order. */
async function run(peers: Peer[], n: number): Promise<number[]> {
  const out = new Array<number>(n);
  let next = 0;
  const feed = (p: Peer) => {
    const tasks: TaskBatch["tasks"] = [];
    for (; tasks.length < BATCH && next < n; next++) tasks.push({ id: next, f: 0, calls: [next] });
    if (tasks.length > 0) send(p.writer, { tasks, fns: [FN] } satisfies TaskBatch);
    return tasks.length;
  };
  await Promise.all(peers.map(async (p) => {
    let held = 0;
    for (let i = 0; i < IN_FLIGHT; i++) held += feed(p);
    while (held > 0) {
      const { results } = decode((await p.reader.next())!) as Results;
      for (const r of results) out[r.id] = r.value![0] as number;
      held -= results.length;
      held += feed(p);
    }
  }));
  return out;
}

async function startPeer(
  kind: "worker" | "subprocess",
  path: string,
  listener: Deno.Listener,
): Promise<Peer> {
  let stop: () => Promise<void>;
  if (kind === "worker") {
    const { Worker } = await import("node:worker_threads");
    const w = new Worker(new URL(import.meta.url));
    w.postMessage(path);
    stop = async () => void await w.terminate();
  } else {
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "--no-config", import.meta.filename!, "--serve", path],
    }).spawn();
    stop = async () => void await child.status;
  }
  const conn = await listener.accept();
  return {
    reader: new FrameReader(conn),
    writer: new FrameWriter(conn),
    stop: async () => {
      conn.close();
      await stop();
    },
  };
}

/**
 * One sample of the floor: starts `processes` bare workers of `kind`, warms
 * them up, then times `tasks` no-op tasks and checks every result.
 *
 * @returns Milliseconds from the first batch sent to the last result.
 */
export async function floorSample(
  kind: "worker" | "subprocess",
  tasks: number,
  processes: number,
): Promise<number> {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/s`;
  const listener = Deno.listen({ transport: "unix", path });
  const peers: Peer[] = [];
  try {
    for (let i = 0; i < processes; i++) peers.push(await startPeer(kind, path, listener));
    await run(peers, WARMUP_TASKS);
    const t0 = performance.now();
    const results = await run(peers, tasks);
    const ms = performance.now() - t0;
    const wrong = results.findIndex((r, i) => r !== i);
    if (wrong >= 0) throw new Error(`The floor returned ${results[wrong]} for task ${wrong}`);
    return ms;
  } finally {
    listener.close();
    await Promise.all(peers.map((p) => p.stop()));
    await Deno.remove(dir, { recursive: true });
  }
}

if (import.meta.main && Deno.args[0] === "--serve") await serve(Deno.args[1]);
else if (typeof (globalThis as { postMessage?: unknown }).postMessage === "function") {
  // A thread: the parent posts the socket's path.
  const scope = globalThis as unknown as EventTarget;
  scope.addEventListener("message", (e) => serve((e as MessageEvent).data), { once: true });
}
