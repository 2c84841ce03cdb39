/**
 * A queue handle's put, wherever the queue is hosted:
 *
 * - in the host, the item is copied (as it would be by crossing a process)
 *   and put at once;
 * - elsewhere, on an unbounded queue, the item is accepted at once and sent
 *   with the others put this turn, as Python's feeder thread does, up to
 *   `limits().unsent` bytes not yet written to the host; past that, puts
 *   wait their turn (`FlowGate`): a timed one rejects with
 *   `QueueFullError` if still waiting at its deadline, a non-blocking one
 *   never fails (it is queued, in order);
 * - on a bounded queue, each put is a call that waits for room in the host.
 *
 * A tight loop of puts that do not wait yields to the event loop now and
 * then (`pace`): in the host, so that it keeps serving its consumers;
 * elsewhere, so that replies and events are read meanwhile.
 *
 * An item that holds handles (a queue, a lock, a proxy…) is packed: the
 * handles become descriptors, and the queue is told which items are
 * packed, beside them, so that readers revive working handles.
 *
 * @module
 */

import { QueueFullError } from "../base/errors.ts";
import { FlowGate, pace } from "../hub/flow.ts";
import { hasHandles, packHandles, valueNow } from "../hub/handles.ts";
import type { ObjectRef } from "../hub/protocol.ts";
import { cloneValue, jsonClone, NOT_BARE, NOT_JSON } from "../wire/measure.ts";
import { checkPlain } from "../wire/plain.ts";
import type { QueueCore } from "./queue_core.ts";

const RESOLVED = Promise.resolve();

/** The producing side of one queue handle. */
export class QueueProducer {
  #ref: ObjectRef;
  #bounded: boolean;
  #gate: FlowGate;
  #core: QueueCore | undefined;

  /**
   * Puts to the queue `ref` reaches; `maxsize` as it was created; `core`:
   * the queue itself, for the handle that hosts it (a put that need not
   * wait goes in without a call).
   */
  constructor(ref: ObjectRef, maxsize: number, core?: QueueCore) {
    this.#ref = ref;
    this.#core = core;
    this.#bounded = maxsize > 0;
    this.#gate = new FlowGate(() => ref.room(), () => ref.whenRoom());
  }

  /**
   * Puts `item`; `timeout` (ms) bounds a wait for room: 0 does not wait,
   * `null` waits as long as it takes. Rejects as the queue's put does.
   * `strict`: the item is refused (`checkPlain`) where its class would be
   * lost; the walk that copies or measures a JSON item checks that too.
   *
   * @throws {DOMException} `DataCloneError` from the strict check.
   */
  put(item: unknown, timeout: number | null, strict: boolean, signal?: AbortSignal): Promise<void> {
    if (this.#ref.local) {
      // A copy, as any other process would get: what is put cannot change in the queue.
      const copy = valueNow(item, strict, "item");
      if (copy === item && hasHandles(item)) return this.#putPacked(item, timeout, signal);
      const r = !signal?.aborted && this.#core?.offer(copy)
        ? RESOLVED
        : this.#ref.call("put", [copy, timeout], { signal }) as Promise<void>;
      const turn = pace();
      return turn ? turn.then(() => r) : r;
    }
    // One walk tells whether the item is JSON (and so holds no handle), its
    // size, and copies it: it is sent later, and a change made to it after
    // its put must not go with it.
    const size = { bytes: 0 };
    let copy = jsonClone(item, strict, size);
    if (copy === NOT_BARE || (copy === NOT_JSON && strict)) checkPlain(item, "item");
    if (copy === NOT_BARE) {
      size.bytes = 0;
      copy = jsonClone(item, false, size);
    }
    const json = copy !== NOT_JSON;
    if (!json && hasHandles(item)) return this.#putPacked(item, timeout, signal);
    // A call or post takes its arguments at the call (refs.ts); a send the
    // gate below may hold takes its own copy now.
    if (this.#bounded) return this.#ref.call("put", [item, timeout], { signal }) as Promise<void>;
    // A connection that was lost: a call reconnects, or says why it cannot.
    if (this.#ref.lost()) return this.#ref.post("putMany", [[item]]);
    const now = json ? copy : structuredClone(item);
    const send = json
      ? () => this.#ref.defer("putMany", now, size.bytes)
      : () => this.#ref.post("putMany", [[now]]);
    const r = this.#gate.pass(send, { timeout, signal, onTimeout: () => new QueueFullError() });
    // Writes that complete at once let a loop of puts go on without a turn
    // of the event loop, in which replies and other events are read.
    const turn = pace();
    return turn ? (r ? turn.then(() => r) : turn) : r ?? RESOLVED;
  }

  async #putPacked(item: unknown, timeout: number | null, signal?: AbortSignal): Promise<void> {
    // Packed, then copied: the rest of the item is not shared with the caller.
    const { value, handles } = await packHandles(item);
    const packed = cloneValue(value);
    if (this.#ref.local || this.#bounded) {
      await this.#ref.call("put", [packed, timeout, handles], { signal });
      return;
    }
    const send = () => this.#ref.post("putMany", [[packed], [[0, handles]]]);
    await this.#gate.pass(send, { timeout, signal, onTimeout: () => new QueueFullError() });
  }
}
