/**
 * Pipes and authenticated connections, as Python's `multiprocessing.Pipe`
 * and `multiprocessing.connection` (`Listener`, `Client`, `wait`).
 *
 * `Pipe()` returns two {@link Connection}s; either end can be passed to a
 * child of either start method, and what is sent on one end is received on
 * the other, in order, never merged or split. `Listener` and `Client`
 * connect processes that share no ancestry, over a Unix socket or TCP, after
 * the HMAC authkey challenge in both directions.
 *
 * @example A pipe to a child
 * ```ts
 * import { Pipe, Process } from "@mp/multiprocessing";
 * import { echo } from "@mp/multiprocessing/targets";
 * import { assertEquals } from "@std/assert";
 *
 * const module = import.meta.resolve("@mp/multiprocessing/targets");
 *
 * const [here, there] = Pipe();
 * await using p = new Process({ target: echo, args: [there], module });
 * await p.start();
 * await here.send({ hello: "child" });
 * assertEquals(await here.recv(), { hello: "child" });
 * here.close();
 * await p.join();
 * ```
 *
 * @module
 */

import { LocalRef } from "./_internal/hub/refs.ts";
import { PipeCore } from "./_internal/primitives/pipe_core.ts";
import { hostPipe, localEnd } from "./_internal/primitives/pipe_endpoints.ts";
import { Connection, connectionOf } from "./connection/connection.ts";
import { abortable, raceTimer } from "./_internal/base/async.ts";
import { timedWait, type WaitOptions } from "./_internal/base/waits.ts";

export { AuthenticationError, EOFError } from "./_internal/base/errors.ts";
export { Connection } from "./connection/connection.ts";
export {
  Client,
  Listener,
  type ListenerAddress,
  type ListenerOptions,
} from "./connection/listener.ts";

/**
 * Creates a pipe: two connected {@link Connection}s, hosted by this process.
 * With `duplex` false, the first can only receive and the second only send.
 *
 * @param duplex Both ends send and receive.
 * @returns `[conn1, conn2]`.
 *
 * @example A one-way pipe
 * ```ts
 * import { Pipe } from "@mp/multiprocessing/connection";
 * import { assertEquals } from "@std/assert";
 *
 * const [reader, writer] = Pipe(false);
 * await writer.send(new Map([["k", 1]]));
 * assertEquals(await reader.poll(), true);
 * assertEquals(await reader.recv(), new Map([["k", 1]]));
 * assertEquals(writer.readable, false);
 * ```
 */
export function Pipe(duplex = true): [Connection, Connection] {
  const core = new PipeCore();
  const ref = new LocalRef(core);
  core.id = ref.id;
  core.onClosed = () => ref.release();
  hostPipe(ref, core);
  return [
    connectionOf(localEnd(ref, core, 0), true, duplex),
    connectionOf(localEnd(ref, core, 1), duplex, true),
  ];
}

/** What {@link wait} waits on: connections, processes (their exit), promises. */
export type Waitable = Connection | { sentinel: Promise<unknown> } | Promise<unknown>;

/**
 * Waits until at least one object is ready, as Python's
 * `multiprocessing.connection.wait`: a connection with something to
 * receive (or EOF), a process that has exited, a promise that has settled.
 *
 * @param objects What to wait on.
 * @param options Milliseconds at most (default: as long as it takes), or
 * `{ timeout, signal }`.
 * @returns The ready objects (empty after a timeout).
 * @throws {RangeError} On a negative timeout.
 * @throws {TypeError} On an unknown option.
 * @throws The signal's reason once it aborts the wait.
 *
 * @example Wait for whichever pipe end is ready
 * ```ts
 * import { Pipe, wait } from "@mp/multiprocessing/connection";
 * import { assertEquals } from "@std/assert";
 *
 * const [a, b] = Pipe();
 * const [c, d] = Pipe();
 * await d.send("x");
 * assertEquals(await wait([a, c], 100), [c]);
 * assertEquals(await wait([a], 10), []);
 * b.close();
 * ```
 */
export async function wait<T extends Waitable>(
  objects: T[],
  options?: number | WaitOptions,
): Promise<T[]> {
  const { timeout, signal } = timedWait("wait", options);
  if (signal?.aborted) throw signal.reason;
  const ctl = new AbortController();
  const ready = new Set<T>();
  const watches = objects.map((o) => watch(o, ctl.signal).then(() => void ready.add(o), () => {}));
  try {
    await abortable(raceTimer(Promise.race(watches), timeout, () => undefined), signal);
    // Let the others that are already ready say so.
    await Promise.resolve();
  } finally {
    ctl.abort();
  }
  return objects.filter((o) => ready.has(o));
}

function watch(o: Waitable, signal: AbortSignal): Promise<unknown> {
  if (o instanceof Connection) return o.waitReady(signal);
  if (o instanceof Promise) return o.then(() => {}, () => {});
  return o.sentinel.then(() => {}, () => {});
}
