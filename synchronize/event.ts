/**
 * `Event`: Python's process event, over shared memory.
 *
 * @module
 */

import { type Descriptor, type PackContext, registerReviver } from "../_internal/hub/handles.ts";
import { TO_DESCRIPTOR } from "../_internal/base/symbols.ts";
import { EventCore } from "../_internal/primitives/event_core.ts";
import { deadlineFor } from "../_internal/primitives/sync_wait.ts";
import { linkFrom, SyncLink } from "../_internal/primitives/sync_link.ts";
import {
  direct,
  left,
  REVIVE,
  type Revive,
  revived,
  type WaitOptions,
  waitOptions,
} from "./_common.ts";

/**
 * A flag processes wait on, as Python's `multiprocessing.Event`.
 *
 * @example Wait for a flag
 * ```ts
 * import { Event } from "@mp/multiprocessing/synchronize";
 * import { assertEquals } from "@std/assert";
 *
 * await using ev = new Event();
 * assertEquals(await ev.wait(5), false);
 * await ev.set();
 * assertEquals(await ev.isSet(), true);
 * assertEquals(await ev.wait(), true);
 * ```
 */
export class Event {
  #link: SyncLink;

  /** Creates a clear event hosted by this process. */
  constructor() {
    this.#link = revived(arguments[0]) ?? new SyncLink(new EventCore());
  }

  /** Sets the flag, waking every waiter. */
  async set(): Promise<void> {
    const core = direct<EventCore>(this.#link);
    if (core) core.set();
    else await this.#link.call("set", []);
  }

  /** Clears the flag. */
  async clear(): Promise<void> {
    const core = direct<EventCore>(this.#link);
    if (core) core.clear();
    else await this.#link.call("clear", []);
  }

  /**
   * Whether the flag is set.
   *
   * @returns True when it is set.
   */
  async isSet(): Promise<boolean> {
    const core = direct<EventCore>(this.#link);
    return core ? core.isSet() : await this.#link.call("isSet", []) as boolean;
  }

  /**
   * Waits until the flag is set.
   *
   * @param options A timeout in ms, or `{ timeout, signal }`.
   * @returns Whether the flag is set (false after a timeout, as Python's).
   */
  async wait(options?: number | WaitOptions): Promise<boolean> {
    const o = waitOptions("wait for event", options);
    const deadline = deadlineFor("wait for event", o);
    const core = direct<EventCore>(this.#link);
    if (core) return await core.wait(deadline, o.signal);
    return await this.#link.call("wait", [left(deadline)], o.signal) as boolean;
  }

  /**
   * Describes this handle for another process.
   *
   * @ignore
   */
  [TO_DESCRIPTOR](ctx?: PackContext): Promise<Descriptor> {
    return this.#link.describe("event", ctx, {});
  }

  /** In the creating process: stops serving the event to other processes. */
  [Symbol.asyncDispose](): Promise<void> {
    this.#link.release();
    return Promise.resolve();
  }
}

registerReviver("event", (d) => {
  const link = linkFrom(d, (ia) => new EventCore(ia));
  return new (Event as new (r: Revive) => Event)({ [REVIVE]: link });
});
