/**
 * The event algorithm over shared memory (see `lock_core.ts`).
 *
 * @module
 */

import { waitChange, wakeAll } from "./sync_wait.ts";

/** One word: 1 when set. */
export class EventCore {
  readonly ia: Int32Array;

  /** Over `ia`, made fresh (clear) when absent. */
  constructor(ia: Int32Array = new Int32Array(new SharedArrayBuffer(4))) {
    this.ia = ia;
  }

  set(): void {
    Atomics.store(this.ia, 0, 1);
    wakeAll(this.ia, 0);
  }

  clear(): void {
    Atomics.store(this.ia, 0, 0);
  }

  isSet(): boolean {
    return Atomics.load(this.ia, 0) === 1;
  }

  /** Waits until set or the deadline; resolves whether it is set. */
  async wait(deadline: number | null, signal?: AbortSignal): Promise<boolean> {
    while (!this.isSet()) {
      if (!await waitChange(this.ia, 0, 0, deadline, signal)) return this.isSet();
    }
    return true;
  }
}
