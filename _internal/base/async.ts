/**
 * The one timer and abort helper. Every wait with a timeout races its
 * promise against a timer here ({@link raceTimer}), and every abort
 * listener is added and removed here ({@link onAbort}, {@link abortable}),
 * so that no timer outlives its wait and no listener outlives its call.
 *
 * @module
 */

import { ProcessError, QueueClosedError } from "./errors.ts";
import { isolateGlobal } from "./state.ts";

/** How {@link raceTimer}'s timer treats the process. */
export interface TimerOptions {
  /**
   * Whether the timer leaves the process free to exit: a guard the library
   * sets for itself (a start, a handshake) must not keep a program alive,
   * while a user's `join(timeout)` must.
   * @default {false}
   */
  unref?: boolean;
}

/**
 * Settles as `p` does, or, when `ms` pass first, as `onTimeout` does (its
 * value, or what it throws). Without `ms` it is `p` itself. The timer is
 * cleared as soon as either settles.
 */
export function raceTimer<T, U = never>(
  p: Promise<T>,
  ms: number | undefined,
  onTimeout: () => U,
  options: TimerOptions = {},
): Promise<T | U> {
  if (ms === undefined) return p;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<U>((resolve, reject) => {
    timer = setTimeout(() => {
      try {
        resolve(onTimeout());
      } catch (err) {
        reject(err);
      }
    }, ms);
    if (options.unref) Deno.unrefTimer(timer);
  });
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}

/**
 * Rejects with a {@link ProcessError} of `message()` after `ms` unless `p`
 * settled first; the timer never keeps the process alive.
 */
export function withTimeout<T>(p: Promise<T>, ms: number, message: () => string): Promise<T> {
  return raceTimer(p, ms, () => {
    throw new ProcessError(message());
  }, { unref: true });
}

/**
 * Like {@link withTimeout}, but counting only the time this process was
 * awake: a timer of ticks, each adding at most its own length, so a stall
 * of this process's event loop (a long synchronous computation) is not
 * taken for the time another process took. A child's start is bounded so:
 * the child must not fail for its parent's pause.
 */
export function withAwakeTimeout<T>(
  p: Promise<T>,
  ms: number,
  message: () => string,
): Promise<T> {
  const tick = Math.max(1, Math.min(250, ms / 10));
  let awake = 0, last = performance.now();
  let timer: ReturnType<typeof setInterval> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setInterval(() => {
      const now = performance.now();
      awake += Math.min(now - last, tick);
      last = now;
      if (awake >= ms) reject(new ProcessError(message()));
    }, tick);
    Deno.unrefTimer(timer);
  });
  return Promise.race([p, late]).finally(() => clearInterval(timer));
}

/** A promise of `ms` milliseconds. */
export function delay(ms: number, options: TimerOptions = {}): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    if (options.unref) Deno.unrefTimer(timer);
  });
}

// Deno provides Node's setImmediate as a global; its types are Node's.
declare function setImmediate(fn: () => void): unknown;

/**
 * Resolves on a later turn of the event loop, once pending I/O and due
 * timers have had their turn: what a long run of work yields to (a loop
 * that awaits only settled promises never lets the event loop run; a tight
 * loop of puts yields with this). Not `setTimeout(0)`, which is clamped to
 * 4 ms once timers nest (measured: 24 turns in 50 ms), while this takes
 * microseconds.
 */
export function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** How often {@link turn} lets finished I/O in, at most. */
export const IO_TURN_MS = 5;

/**
 * A turn of the event loop in which finished I/O (a socket's data, a
 * worker's message) is seen, at least every {@link IO_TURN_MS}: a cheap
 * {@link nextTurn} otherwise. Measured in Deno 2.9.6: a run of work
 * yielding only by `setImmediate` (or a `MessageChannel` round) sees a
 * socket's data once in ~60 turns (the runtime polls for I/O readiness when
 * it parks, and otherwise every 61 of its ticks); awaiting an operation
 * Deno completes on another thread makes it park: a SHA-256 digest of
 * nothing, ~50 µs, where a timer turn (`setTimeout(0)`) costs 1-2 ms. A
 * pool worker sees its pool's messages between tasks so, and a host in a
 * loop of puts serves its other connections (bench/queue_throughput.ts:
 * 1.09x with a digest every 5 ms over a timer turn every 20 ms; a timer
 * every 5 ms was slower).
 */
export function turn(): Promise<void> {
  const io = isolateGlobal("ioTurn", () => ({ last: 0 }));
  const now = performance.now();
  if (now - io.last < IO_TURN_MS) return nextTurn();
  io.last = now;
  return crypto.subtle.digest("SHA-256", NOTHING).then(NOOP);
}

const NOTHING = new Uint8Array(0);

const NOOP = () => {};

/**
 * Keeps this process alive until the returned function is called (once is
 * enough; more are ignored). A wait the user makes (a queue's `get`, a
 * pool's task, a lock) keeps a program alive, as Python's blocking call
 * does, while idle resources (a pool's workers, connections) do not: a
 * pending promise alone would let Deno end the program with an error.
 */
export function keepAlive(): () => void {
  const h = isolateGlobal("keepAlive", () => ({
    holds: 0,
    timer: undefined as ReturnType<typeof setInterval> | undefined,
  }));
  if (h.holds++ === 0) h.timer = setInterval(NOOP, 1 << 30);
  let released = false;
  return () => {
    if (released) return;
    released = true;
    if (--h.holds === 0) clearInterval(h.timer);
  };
}

/**
 * Calls `fn` with the signal's reason once it aborts (at once when it
 * already has); returns the function that removes the listener.
 */
export function onAbort(
  signal: AbortSignal | undefined,
  fn: (reason: unknown) => void,
): () => void {
  if (!signal) return NOOP;
  if (signal.aborted) {
    fn(signal.reason);
    return NOOP;
  }
  const listener = () => fn(signal.reason);
  signal.addEventListener("abort", listener, { once: true });
  return () => signal.removeEventListener("abort", listener);
}

/**
 * Settles as `p` does, or rejects with the signal's reason when it aborts
 * first; the listener is removed either way.
 */
export function abortable<T>(p: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return p;
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const off = onAbort(signal, reject);
    p.then((v) => {
      off();
      resolve(v);
    }, (e) => {
      off();
      reject(e);
    });
  });
}

/**
 * The items `get` gives until it rejects with {@link QueueClosedError}
 * (the queue is closed and drained): a queue's `for await` (local and
 * cluster queues alike). Other errors are thrown.
 */
export async function* untilClosed<T>(get: () => Promise<T>): AsyncGenerator<T, void, undefined> {
  while (true) {
    try {
      yield await get();
    } catch (err) {
      if (err instanceof QueueClosedError) return;
      throw err;
    }
  }
}

/**
 * `load`, run by the first call only: every call gets its one promise. For
 * a module a public one imports when first used (`import("./x.ts")` in the
 * caller, so that `deno run` and `deno compile` still find it): an
 * `import()` at every use, of a module loaded already, made a warm worker's
 * start 1.9 ms instead of 1.4 (`bench/ab.ts`, process_start).
 */
export function once<T>(load: () => Promise<T>): () => Promise<T> {
  let loading: Promise<T> | undefined;
  return () => loading ??= load();
}
