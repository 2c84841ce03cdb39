/**
 * Flow control of the object protocol, for every transport alike:
 *
 * - a producer's bytes accepted and not yet written to a host are bounded
 *   (`limits().unsent`); past the bound, its next put or send waits, in
 *   order, through a {@link FlowGate};
 * - in the hosting process, where a put is a plain call that never waits, a
 *   tight loop yields to the event loop every `limits().paceCalls` calls or
 *   `limits().paceMs` milliseconds ({@link pace}), so that the host goes on
 *   serving its other clients (Python's feeder thread runs beside the loop;
 *   here the loop must make room for it).
 *
 * @module
 */

import { isolateGlobal } from "../base/state.ts";
import { raceTimer, turn } from "../base/async.ts";
import { onAbort } from "../base/async.ts";
import { limits } from "../wire/limits.ts";

interface Pacing {
  calls: number;
  since: number;
  yielding: Promise<void> | undefined;
  peakUnsent: number;
}

// Per isolate, looked up once: it is on the path of every put.
const PACING: Pacing = isolateGlobal("pacing", () => ({
  calls: 0,
  since: performance.now(),
  yielding: undefined,
  peakUnsent: 0,
}));

function pacing(): Pacing {
  return PACING;
}

/**
 * Counts a call made in the host that does not wait; returns a promise of
 * the next turn of the event loop once the loop it runs in is due to let
 * the event loop run, else `undefined`.
 */
export function pace(): Promise<void> | undefined {
  const p = pacing();
  if (p.yielding) return p.yielding;
  const l = limits();
  // The clock is read every 16 calls: it costs more than the rest of this.
  if (++p.calls < l.paceCalls && ((p.calls & 15) !== 0 || performance.now() - p.since < l.paceMs)) {
    return undefined;
  }
  p.yielding = turn().then(() => {
    p.yielding = undefined;
    p.calls = 0;
    p.since = performance.now();
  });
  return p.yielding;
}

/** Records how many bytes a producer had accepted and not yet written (tests, benchmarks). */
export function notePeakUnsent(bytes: number): void {
  const p = pacing();
  if (bytes > p.peakUnsent) p.peakUnsent = bytes;
}

/** The most bytes this isolate has had accepted and not yet written to one host. */
export function peakUnsent(): number {
  return pacing().peakUnsent;
}

/** How long {@link FlowGate.pass} may wait: 0 not at all, `null` as long as it takes. */
export interface PassOptions {
  /** Milliseconds; 0: the action is queued and the pass resolves at once; null: no limit. */
  timeout: number | null;
  /** Aborts the wait (the action, not yet run, is dropped). */
  signal?: AbortSignal;
  /** The error of a wait that timed out (the action, not yet run, is dropped). */
  onTimeout(): Error;
}

interface Waiting {
  action(): unknown;
  resolve(): void;
  reject(err: unknown): void;
}

/**
 * Runs actions (sends) in order, each once there is room: at once while
 * there is and nothing waits, else after those before it.
 */
export class FlowGate {
  #room: () => boolean;
  #whenRoom: () => Promise<void>;
  #waiting: Waiting[] = [];
  #pumping = false;

  /** A gate that asks `room()` and waits on `whenRoom()`. */
  constructor(room: () => boolean, whenRoom: () => Promise<void>) {
    this.#room = room;
    this.#whenRoom = whenRoom;
  }

  /** Whether an action passed now would wait (no room, or others wait before it). */
  waits(): boolean {
    return this.#waiting.length > 0 || !this.#room();
  }

  /**
   * Runs `action` now and returns `undefined` (or the promise it returned), or queues it behind the
   * others and returns a promise that settles when it has run (or, with
   * `timeout: 0`, at once: it runs later, in order, and never fails the
   * caller). A wait that times out or is aborted drops the action.
   */
  pass(action: () => unknown, options: PassOptions): Promise<void> | undefined {
    if (!this.waits()) {
      const r = action();
      return r instanceof Promise ? r : undefined;
    }
    const { timeout, signal } = options;
    if (signal?.aborted) return Promise.reject(signal.reason);
    const done = new Promise<void>((resolve, reject) => {
      this.#waiting.push({ action, resolve, reject });
    });
    this.#pump();
    if (timeout === 0) {
      done.catch(() => {});
      return Promise.resolve();
    }
    const entry = this.#waiting.at(-1)!;
    const drop = (err: unknown) => {
      const i = this.#waiting.indexOf(entry);
      if (i < 0) return; // It ran already.
      this.#waiting.splice(i, 1);
      entry.reject(err);
    };
    const off = onAbort(signal, drop);
    return raceTimer(done, timeout ?? undefined, () => {
      drop(options.onTimeout());
    }).then(() => done).finally(off);
  }

  async #pump(): Promise<void> {
    if (this.#pumping) return;
    this.#pumping = true;
    try {
      while (this.#waiting.length > 0) {
        try {
          await this.#whenRoom();
        } catch (err) {
          for (const w of this.#waiting.splice(0)) w.reject(err);
          return;
        }
        while (this.#waiting.length > 0 && this.#room()) {
          const w = this.#waiting.shift()!;
          try {
            Promise.resolve(w.action()).then(w.resolve, w.reject);
          } catch (err) {
            w.reject(err);
          }
        }
      }
    } finally {
      this.#pumping = false;
    }
  }
}
