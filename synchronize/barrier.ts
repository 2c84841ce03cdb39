/**
 * `Barrier`: Python's process barrier, over shared memory.
 *
 * @module
 */

import { type Descriptor, type PackContext, registerReviver } from "../_internal/hub/handles.ts";
import { TO_DESCRIPTOR } from "../_internal/base/symbols.ts";
import { BarrierCore } from "../_internal/primitives/barrier_core.ts";
import { deadlineFor, myOwner } from "../_internal/primitives/sync_wait.ts";
import { linkFrom, SyncLink } from "../_internal/primitives/sync_link.ts";
import { direct, left, REVIVE, type WaitOptions, waitOptions } from "./_common.ts";

/** Options of a {@link Barrier}. */
export interface BarrierOptions {
  /**
   * Run once per pass, by the last party to arrive, before the others are
   * released. It runs in the creating process: other processes' waits go
   * through it when there is an action. If it throws, the barrier breaks.
   */
  action?: () => unknown;
  /** Default timeout of {@link Barrier.wait}, in milliseconds. */
  timeout?: number;
}

/**
 * A barrier for a fixed number of parties, as Python's
 * `multiprocessing.Barrier`: each `wait` resolves once all have arrived.
 *
 * @example Three parties pass together, one action
 * ```ts
 * import { Barrier } from "@mp/multiprocessing/synchronize";
 * import { assertEquals } from "@std/assert";
 *
 * let passes = 0;
 * await using barrier = new Barrier(3, { action: () => passes++ });
 * const indices = await Promise.all([barrier.wait(), barrier.wait(), barrier.wait()]);
 * assertEquals(indices.sort(), [0, 1, 2]);
 * assertEquals(passes, 1);
 * ```
 */
export class Barrier {
  #link: SyncLink;
  #parties: number;
  #timeout: number | undefined;

  /**
   * Creates a barrier for `parties`.
   *
   * @param parties How many parties each pass waits for: a positive integer.
   * @param options `action`, run once per pass, and the default `timeout` of
   * {@link Barrier.wait}.
   * @throws {RangeError} When `parties` is not a positive integer, or the timeout is negative.
   * @throws {TypeError} When `action` is not a function.
   */
  constructor(parties: number, options: BarrierOptions = {}) {
    const from = (options as { [REVIVE]?: [SyncLink, number, number | undefined] })[REVIVE];
    if (from) {
      [this.#link, this.#parties, this.#timeout] = from;
      return;
    }
    if (!Number.isInteger(parties) || parties < 1 || parties > 0x7fffffff) {
      throw new RangeError(
        `Cannot create barrier: 'parties' must be a positive integer, received ${parties}`,
      );
    }
    if (options.timeout !== undefined) deadlineFor("create barrier", options);
    if (options.action !== undefined && typeof options.action !== "function") {
      throw new TypeError(`Cannot create barrier: 'action' must be a function`);
    }
    this.#parties = parties;
    this.#timeout = options.timeout;
    this.#link = new SyncLink(new BarrierCore(parties), undefined, options.action);
  }

  /** The number of parties. */
  get parties(): number {
    return this.#parties;
  }

  /**
   * Waits for every party.
   *
   * @param options A timeout in ms, or `{ timeout, signal }`; the default
   * timeout is the barrier's.
   * @returns This party's arrival index, from 0 (the first) to `parties - 1`
   * (the last).
   * @throws {BrokenBarrierError} When the barrier is or becomes broken, or
   * this wait times out (which breaks it).
   * @throws `signal.reason` once `signal` is aborted.
   */
  async wait(options?: number | WaitOptions): Promise<number> {
    const o = waitOptions("wait on barrier", options);
    const deadline = deadlineFor("wait on barrier", { timeout: this.#timeout, ...o });
    const core = direct<BarrierCore>(this.#link);
    if (core) return await core.wait(myOwner(), deadline, o.signal, this.#link.action);
    return await this.#link.call("wait", [myOwner(), left(deadline)], o.signal) as number;
  }

  /** Breaks the barrier: current and later waits reject until {@link Barrier.reset}. */
  async abort(): Promise<void> {
    const core = direct<BarrierCore>(this.#link);
    if (core) await core.abort(myOwner());
    else await this.#link.call("abort", [myOwner()]);
  }

  /** Returns the barrier to empty and unbroken; current waits reject. */
  async reset(): Promise<void> {
    const core = direct<BarrierCore>(this.#link);
    if (core) await core.reset(myOwner());
    else await this.#link.call("reset", [myOwner()]);
  }

  /**
   * The number of parties waiting now.
   *
   * @returns How many parties are in {@link Barrier.wait}.
   */
  async nWaiting(): Promise<number> {
    const core = direct<BarrierCore>(this.#link);
    return core ? core.nWaiting() : await this.#link.call("nWaiting", [0]) as number;
  }

  /**
   * Whether the barrier is broken.
   *
   * @returns True from a break until {@link Barrier.reset}.
   */
  async broken(): Promise<boolean> {
    const core = direct<BarrierCore>(this.#link);
    return core ? core.broken() : await this.#link.call("broken", [0]) as boolean;
  }

  /**
   * Describes this handle for another process.
   *
   * @ignore
   */
  [TO_DESCRIPTOR](ctx?: PackContext): Promise<Descriptor> {
    return this.#link.describe("barrier", ctx, {
      parties: this.#parties,
      timeout: this.#timeout,
      hasAction: this.#link.action !== undefined,
    });
  }

  /** In the creating process: stops serving the barrier to other processes. */
  [Symbol.asyncDispose](): Promise<void> {
    this.#link.release();
    return Promise.resolve();
  }
}

registerReviver("barrier", (d) => {
  const parties = d.extra?.parties as number;
  const link = linkFrom(d, (ia) => new BarrierCore(parties, ia));
  const token = { [REVIVE]: [link, parties, d.extra?.timeout ?? undefined] };
  return new Barrier(parties, token as BarrierOptions);
});
