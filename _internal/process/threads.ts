/**
 * The two kinds of thread a worker child can run on, behind one interface.
 *
 * - A `node:worker_threads` Worker, the default. Measured in Deno 2.9.6: it
 *   is the only kind whose stuck thread (`while (true) {}`) does not keep
 *   the program alive after `terminate()`, it can be unref'd (an idle
 *   daemonic child or pool worker lets the program end), and its exit code
 *   always reaches the parent (`Deno.exit(n)`, `close()`; the child entry
 *   turns an uncaught error into exit code 1). It costs more to start (about
 *   2.5x a Web Worker's first message here) and takes no permissions of its
 *   own; messages cost the same.
 * - A Web Worker, where a child's permissions are narrowed: Deno's worker
 *   permissions exist only there. It cannot be unref'd, and a stuck one
 *   keeps the program alive even once terminated (a Deno limit).
 *
 * `node:worker_threads` costs about 15 ms to import: it is loaded with the
 * first thread that needs it, not with the library.
 *
 * @module
 */

import type { MessagePortLike } from "../transport/channel.ts";

/** A thread a worker child runs on. */
export interface Thread {
  /** Messages to and from the child entry in the thread. */
  readonly port: MessagePortLike;
  /** Calls `fn` once the thread has ended: its exit code, and the uncaught error it reported. */
  onExit(fn: (code: number, error?: string) => void): void;
  /** Stops the thread (it may go on spinning; it no longer holds the program). */
  stop(): void;
  /** Whether the thread keeps the program alive. */
  setRef(ref: boolean): void;
}

type NodeWorker = {
  postMessage(value: unknown, transfer?: Transferable[]): void;
  on(event: string, fn: (arg: never) => void): void;
  off(event: string, fn: (arg: never) => void): void;
  terminate(): Promise<number>;
  ref(): void;
  unref(): void;
};

let nodeWorkerClass:
  | Promise<new (url: URL, options: Record<string, unknown>) => NodeWorker>
  | undefined;

/** A `node:worker_threads` Worker on `url`. */
export async function nodeThread(url: string, name: string): Promise<Thread> {
  nodeWorkerClass ??= import("node:worker_threads").then((m) => m.Worker as never);
  const w = new (await nodeWorkerClass)(new URL(url), { name });
  const listeners = new Map<(e: MessageEvent) => void, (data: never) => void>();
  let error: string | undefined;
  w.on("error", (e: Error) => (error = e.message));
  const exits: ((code: number, error?: string) => void)[] = [];
  let ended = false;
  const end = (code: number) => {
    if (ended) return;
    ended = true;
    for (const fn of exits) fn(code, error);
  };
  // The child entry posts its exit code before it exits: the parent need
  // not wait for the thread's teardown (about a millisecond) to hear it.
  w.on("message", (m: { op?: string; code?: number }) => m?.op === "exit" && end(m.code ?? 0));
  w.on("exit", (code: number) => end(code));
  return {
    port: {
      postMessage: (m, transfer) => w.postMessage(m, transfer),
      addEventListener: (_type, l) => {
        const f = (data: unknown) => l({ data } as MessageEvent);
        listeners.set(l, f);
        w.on("message", f);
      },
      removeEventListener: (_type, l) => {
        const f = listeners.get(l);
        if (f) w.off("message", f);
      },
    },
    onExit: (fn) => exits.push(fn),
    stop: () => void w.terminate().catch(() => {}),
    setRef: (ref) => ref ? w.ref() : w.unref(),
  };
}

/**
 * A Web Worker on `url`. Its exit code comes as an `{op: "exit", code}`
 * message from the child entry; an uncaught error, as its `error` event.
 */
export function webThread(url: string, options: WorkerOptions): Thread {
  const w = new Worker(url, options);
  const exits: ((code: number, error?: string) => void)[] = [];
  let ended = false;
  const end = (code: number, error?: string) => {
    if (ended) return;
    ended = true;
    for (const fn of exits) fn(code, error);
  };
  w.addEventListener("error", (e) => {
    // Unhandled, a worker's error would take the parent down with it.
    e.preventDefault();
    end(1, e.filename ? `${e.message}\n    at ${e.filename}:${e.lineno}:${e.colno}` : e.message);
  });
  w.addEventListener("messageerror", () => end(1, "a message could not be deserialized"));
  w.addEventListener("message", (e) => {
    const m = e.data as { op?: string; code?: number };
    if (m?.op === "exit") end(m.code ?? 0);
  });
  return {
    port: w as unknown as MessagePortLike,
    onExit: (fn) => exits.push(fn),
    stop: () => w.terminate(),
    setRef: () => {/* a Web Worker cannot be unref'd */},
  };
}
