/**
 * How many objects each client session has made at a manager and not yet
 * seen freed: a client cannot fill the manager's memory with objects it
 * never takes (`limits().objectsPerClient`).
 *
 * @module
 */

import { limits } from "../wire/limits.ts";

/** Objects made per client session, alive. */
export class Quota {
  #made = new Map<string, number>();

  /**
   * Counts one more object for `session`.
   *
   * @throws {RangeError} When the session already holds `limits().objectsPerClient`.
   */
  take(session: string, typeid: string): void {
    const n = this.#made.get(session) ?? 0;
    const max = limits().objectsPerClient;
    if (n >= max) {
      throw new RangeError(
        `Cannot create '${typeid}': this client already holds ${max} objects of this manager, the limit`,
      );
    }
    this.#made.set(session, n + 1);
  }

  /** An object `session` made was freed (or never made). */
  give(session: string): void {
    const n = this.#made.get(session) ?? 0;
    if (n <= 1) this.#made.delete(session);
    else this.#made.set(session, n - 1);
  }
}
