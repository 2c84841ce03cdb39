/**
 * The pool's scheduler: which worker gets which queued task, and when a
 * busy worker gives back what it has not started.
 *
 * A worker is sent tasks while what it holds is expected to end within
 * {@link PREFETCH_MS}, by durations measured per function by the workers
 * (each reply says how long its tasks ran) and by how long it has been at
 * them: many tiny tasks go out in batches (what makes a pool of no-op
 * tasks fast), and only to as many workers as get through them within
 * that time; a long task's successor goes with it while the rest of the
 * queue keeps every other worker busy until it ends, else just before it
 * is expected to end; a task of unknown duration goes only to an idle worker, and nothing
 * queues behind it there. So no task waits on a busy worker, by the
 * measurements, for longer than that while another is idle or starting.
 * When the queue is empty and a worker idles while another holds unstarted
 * tasks, and that one is overdue by {@link QUIET_MS} (its task runs longer
 * than measured) or holds more than {@link PREFETCH_MS} of them by what its
 * functions are now measured to take, those are taken back and handed out
 * again. A worker sees that request between two tasks: one stuck in a
 * long synchronous task gives its others back only once it ends.
 *
 * @module
 */

import { logger } from "../base/log.ts";
import { raceTimer } from "../base/async.ts";
import { errorFromData } from "../wire/error_data.ts";
import { TaskQueue } from "./task_queue.ts";
import { type FnStats, learn, type Slot, type Task } from "./task.ts";
import type { Results } from "./protocol.ts";
import { toBatch } from "./protocol.ts";

/**
 * Tasks per message: the cap on what tiny tasks batch up to (tasks go in
 * batches only while what a worker holds is expected to end within
 * {@link PREFETCH_MS}). Measured (20k no-op tasks on 2 fresh workers):
 * batches of 32 ran at 0.6x the rate of batches of 64, and those at 0.8x
 * the rate of batches of 128, and those at 0.7-0.85x the rate of batches
 * of 256 (the parent's main thread then spent 0.8x the CPU time, V8's
 * background threads half), each message's cost (its frame, its dispatch
 * in both processes, a wake-up of each) being paid for fewer tasks.
 */
export const MAX_BATCH = 256;
/** Tasks per worker a lazy `imap` keeps in flight: how far ahead it reads its input. */
export const IMAP_PER_WORKER = 64;
/**
 * The most tasks a worker holds: a few batches, topped up whenever one more
 * fits, so that a worker going through tiny tasks never waits for the next
 * batch. Measured (20k no-op tasks, 2 fresh workers): holding two of 128
 * and waiting to be down to one left each worker idle 60-70% of the time (a
 * batch of no-op tasks takes less than the round trip for the next); two
 * of 256 (as many tasks as four of 128) keep it fed. Four of 256 were no
 * faster, and one test of slow calls spreading over the workers ("long
 * synchronous calls of a function first seen quick", subprocess) then
 * failed in 5 runs of 11, for a reason not found.
 */
export const PER_WORKER = 2 * MAX_BATCH;
/** A worker is sent more while what it holds is expected to take at most this long (ms). */
export const PREFETCH_MS = 5;
/**
 * A busy worker is sent more once what it holds is expected to end within
 * this long (ms): a long task's successor then reaches its worker before
 * the task ends, though the timer that sends it fires 1-2 ms late here,
 * and the measure it goes by (the function's slowest recent call) is often
 * a millisecond over the call. Measured (64 tasks of 20 ms on 2 worker
 * threads): at 2.5 ms, successors were sent a median 0.5-1.2 ms before
 * their predecessor ended, and after it for several tasks of each worker;
 * at 4 ms, 1.1-2.5 ms before. Below {@link PREFETCH_MS}, which bounds how
 * long a task may wait on a busy worker.
 */
export const ROOM_MS = 4;
/**
 * A worker that has returned nothing for this long (ms) past what it was
 * expected to take is overdue: its task runs longer than measured, so its
 * unstarted tasks go to an idle worker, and it no longer counts as getting
 * through the queue. Not less: on two busy cores a worker thread is often
 * kept off them for a few milliseconds, and at 2 ms the pool took that for
 * a stall and woke more workers, who made it worse.
 */
export const QUIET_MS = 10;
/** A wake-up asked for this much (ms) earlier than now needed is moved later (see `#arm`). */
const REARM_MS = 5;
/** The queue, the measurements, and the policy of the module doc. */
export class Scheduler {
  /** Tasks not on a worker. */
  readonly queue: TaskQueue<Task> = new TaskQueue();
  /**
   * Tasks not queued yet that maps will queue as earlier ones finish (a map
   * submits a window of its chunks at a time: `map.ts`). They count as
   * queued where the scheduler asks whether the busy workers will have
   * done the whole queue soon: a map of 40k tasks of a few µs each (some
   * 100 ms of work) showed it a window of about 5 ms, and ran on one of
   * two workers while the other idled.
   */
  backlog = 0;

  #limit: number;
  #wake: () => void;
  /** Workers open to tasks or starting, as of the last dispatch: how many share the queue. */
  #workers = 0;
  #replies = 0;
  #timer: PromiseWithResolvers<void> | undefined;
  #timerAt = 0;

  /**
   * @param limit Tasks a worker runs before it is replaced; 0 for no limit.
   * @param wake Dispatches again (when a worker may have gone quiet).
   */
  constructor(limit: number, wake: () => void) {
    this.#limit = limit;
    this.#wake = wake;
  }

  /**
   * Hands queued tasks to the workers that should take them; then rebalances.
   *
   * @param slots The started workers.
   * @param starting Workers starting: not sent tasks yet, but they will share the queue.
   */
  dispatch(slots: Iterable<Slot>, starting = 0): void {
    const now = performance.now();
    this.#workers = starting;
    for (const s of slots) if (this.#open(s)) this.#workers++;
    for (let head = this.queue.peek(); head; head = this.queue.peek()) {
      const slot = this.#pick(slots, head, now);
      if (!slot) break;
      this.#send(slot, now);
    }
    const wakeAt = this.queue.size === 0
      ? this.#rebalance(slots, now)
      : this.#armForRoom(slots, now);
    this.#arm(wakeAt, now);
  }

  /**
   * The worker `task` should go to: the least loaded busy one that may take
   * it (it would start within {@link PREFETCH_MS}), else an idle one, unless
   * the busy ones will have done the whole queue within that time anyway.
   * Waking a worker for that only adds a thread contending for the cores
   * (measured: 32 workers ran no-op tasks at 0.6x the rate of 2).
   */
  #pick(slots: Iterable<Slot>, task: Task, now: number): Slot | undefined {
    let best: Slot | undefined, bestMs = Infinity, idle: Slot | undefined, busy = 0;
    let behind: Slot | undefined, behindMs = Infinity;
    for (const slot of slots) {
      if (slot.held.size === 0) {
        if (this.#accepts(slot, task, now)) idle ??= slot;
        continue;
      }
      if (this.#overdue(slot, now) || !this.#takes(slot, task)) continue;
      busy++;
      const left = this.#remaining(slot, now);
      if (left < bestMs && this.#wants(slot, now) && this.#accepts(slot, task, now)) {
        [best, bestMs] = [slot, left];
      } else if (left < behindMs && this.#behind(slot, task, now)) {
        [behind, behindMs] = [slot, left]; // the one whose task ends first
      }
    }
    if (best) return best;
    if (!idle) return behind;
    const work = task.stats.low * task.message.calls.length * (this.queue.size + this.backlog);
    if (busy > 0 && work <= busy * PREFETCH_MS) return undefined; // see #armForRoom
    return idle;
  }

  #open(slot: Slot): boolean {
    return !slot.exclusive && !slot.retiring && (this.#limit === 0 || slot.sent < this.#limit);
  }

  /** Whether a busy `slot` takes tasks like `task` at all: nothing waits behind an unknown or exclusive one. */
  #takes(slot: Slot, task: Task): boolean {
    return this.#open(slot) && !task.exclusive && slot.unknown === 0;
  }

  /** Expected milliseconds until `slot` has done what it holds. */
  #remaining(slot: Slot, now: number): number {
    return Math.max(0, slot.pendingMs - (now - slot.lastProgress));
  }

  /** It has returned nothing for {@link QUIET_MS} longer than it was expected to take. */
  #overdue(slot: Slot, now: number): boolean {
    return slot.held.size > 0 && now - slot.lastProgress >= slot.pendingMs + QUIET_MS;
  }

  /**
   * Whether a busy worker is due more: once a whole batch fits, so that it
   * is sent batches, not a task per result (measured: topping up at every
   * result made messages of 3.6 tasks on average, and halved the throughput
   * of no-op tasks).
   */
  #wants(slot: Slot, now: number): boolean {
    if (slot.held.size === 0) return true;
    return slot.held.size <= PER_WORKER - MAX_BATCH &&
      this.#remaining(slot, now) <= ROOM_MS;
  }

  /**
   * Whether `slot` may take `task` now (a batch fills while this holds): an
   * idle one anything; a busy one a task that would start within
   * {@link PREFETCH_MS}, by what it holds and how long it has been at it. A
   * long task's successor is so sent just before it ends (its worker never
   * waits for the round trip, nor the task for long).
   */
  #accepts(slot: Slot, task: Task, now: number): boolean {
    if (!this.#open(slot)) return false;
    if (slot.held.size === 0) return true;
    if (!this.#takes(slot, task) || slot.held.size >= PER_WORKER) return false;
    return this.#remaining(slot, now) <= PREFETCH_MS;
  }

  /**
   * Whether `slot`, running one long task, may hold `task` behind it now,
   * not only just before that one ends: when the rest of the queue, by
   * `task`'s measure, keeps every other worker (those starting too) busy
   * until this one is done, no worker can be idle while `task` waits, and its worker then
   * never waits for it, nor this process wakes to send it. Measured (64
   * tasks of 20 ms on 2 subprocess workers): the parent's main thread woke
   * about twice per task, each wake-up 100-150 µs of its CPU, on cores the
   * workers share.
   */
  #behind(slot: Slot, task: Task, now: number): boolean {
    if (slot.held.size !== 1 || !this.#open(slot) || !this.#takes(slot, task)) return false;
    const per = task.stats.low * task.message.calls.length;
    if (!(per > PREFETCH_MS)) return false; // unknown, or quick: the rules above
    const rest = per * (this.queue.size - 1 + this.backlog);
    return rest >= this.#remaining(slot, now) * (this.#workers - 1);
  }

  /**
   * With tasks left queued, looks again when the first busy worker will want
   * more (nothing else would: no result comes before), or be overdue (so
   * that idle ones are woken for its share).
   */
  #armForRoom(slots: Iterable<Slot>, now: number): number {
    let first = Infinity;
    for (const s of slots) {
      if (s.held.size === 0 || s.exclusive || s.unknown > 0) continue;
      // One holding a long task behind its running one (#behind) wants
      // more at its next result; until then, it can only be overdue.
      const roomAt = s.held.size === 2 && s.pendingMs > 2 * PREFETCH_MS
        ? now
        : s.lastProgress + s.pendingMs - ROOM_MS; // when it #wants more
      first = Math.min(first, roomAt > now ? roomAt : s.lastProgress + s.pendingMs + QUIET_MS);
    }
    return first;
  }

  /** Sends `slot` a batch from the head of the queue. */
  #send(slot: Slot, now: number): void {
    const batch: Task[] = [];
    for (let t = this.queue.peek(); t && batch.length < MAX_BATCH; t = this.queue.peek()) {
      if (!this.#accepts(slot, t, now) && !this.#behind(slot, t, now)) break;
      this.queue.shift();
      this.#hold(slot, t, now);
      batch.push(t);
    }
    const log = logger();
    if (log.isEnabledFor("debug")) {
      log.debug(`dispatched ${batch.length} task(s) to pool worker ${slot.label ?? "?"}`);
    }
    slot.conn.send(toBatch(batch)).catch((err) => {
      for (const t of batch) {
        if (t.slot !== slot) continue;
        this.#unhold(slot, t);
        t.reject(err);
      }
    });
  }

  #hold(slot: Slot, task: Task, now: number): void {
    if (slot.held.size === 0) slot.lastProgress = now;
    task.est = task.stats.perCall * task.message.calls.length;
    if (Number.isNaN(task.est)) slot.unknown++;
    else slot.pendingMs += task.est;
    if (task.exclusive) slot.exclusive = true;
    task.slot = slot;
    slot.held.add(task);
    slot.sent++;
  }

  #unhold(slot: Slot, task: Task): void {
    slot.held.delete(task);
    if (Number.isNaN(task.est)) slot.unknown--;
    else slot.pendingMs -= task.est;
    task.slot = undefined;
    task.reclaiming = false;
    if (slot.held.size === 0) {
      slot.exclusive = false;
      slot.pendingMs = 0; // no drift from float sums
    }
  }

  /** A worker's results: settles their tasks and learns how long they took. */
  settle(slot: Slot, msg: Results): void {
    slot.lastProgress = performance.now();
    const seq = ++this.#replies;
    const learnt: FnStats[] = [];
    let calls = 0;
    for (const r of msg.results) {
      const task = slot.held.get(r.id);
      if (!task) continue;
      this.#unhold(slot, task);
      calls += task.message.calls.length;
      if (task.stats.seen !== seq) {
        task.stats.seen = seq;
        learnt.push(task.stats);
      }
      if (task.done) continue;
      if (r.error) task.reject(errorFromData(r.error));
      else task.resolve(r.value!);
    }
    if (msg.t !== undefined && calls > 0) { for (const s of learnt) learn(s, msg.t / calls); }
  }

  /** Tasks a worker gave back unstarted: queued again, ahead of the rest (aborted ones dropped). */
  returned(slot: Slot, ids: number[]): void {
    const back: Task[] = [];
    for (const id of ids) {
      const task = slot.held.get(id);
      if (!task) continue;
      this.#unhold(slot, task);
      slot.sent--;
      if (!task.done) back.push(task);
    }
    this.queue.giveBack(back);
  }

  /** Aborted tasks: off the queue, or asked back from their workers (to never run). */
  cancel(tasks: Task[]): void {
    const asks = new Map<Slot, number[]>();
    for (const t of tasks) {
      if (t.queued) this.queue.remove(t);
      else if (t.slot && !t.reclaiming) {
        t.reclaiming = true;
        const ids = asks.get(t.slot);
        if (ids) ids.push(t.id);
        else asks.set(t.slot, [t.id]);
      }
    }
    for (const [slot, ids] of asks) slot.conn.send({ reclaim: ids }).catch(() => {});
  }

  /** A worker is gone: what it held, in the order it was sent them, no longer held. */
  release(slot: Slot): Task[] {
    const held = [...slot.held];
    for (const t of held) this.#unhold(slot, t);
    return held;
  }

  /**
   * With nothing queued, an idle worker takes over what an overdue or
   * outgrown one holds unstarted (see the module doc); one not yet overdue
   * is looked at again when it will be.
   */
  #rebalance(slots: Iterable<Slot>, now: number): number {
    let idle = 0;
    for (const s of slots) if (s.held.size === 0 && this.#open(s)) idle++;
    if (idle === 0) return Infinity;
    let later = Infinity;
    for (const s of slots) {
      if (idle === 0) break;
      if (s.exclusive || s.held.size < 2) continue;
      if (!this.#overdue(s, now) && !this.#outgrown(s)) {
        later = Math.min(later, s.lastProgress + s.pendingMs + QUIET_MS);
        continue;
      }
      const asked = [...s.held].slice(1).filter((t) => !t.reclaiming);
      if (asked.length === 0) continue;
      for (const t of asked) t.reclaiming = true;
      const ids = asked.map((t) => t.id);
      s.conn.send({ reclaim: ids }).catch(() => {});
      idle--;
    }
    return later;
  }

  /**
   * Whether what `slot` holds behind the task it runs would, by what its
   * functions are measured to take now, keep an idle worker waiting past
   * {@link PREFETCH_MS}: tasks sent in a batch as quick (a function first
   * measured on small arguments) that turned out slow. Taken back at once,
   * rather than once the worker is overdue, which a worker returning a
   * result every few milliseconds never is.
   */
  #outgrown(slot: Slot): boolean {
    let ms = 0, first = true;
    for (const t of slot.held) {
      if (first) first = false;
      else if (!t.reclaiming && (ms += t.stats.perCall * t.message.calls.length) > PREFETCH_MS) {
        return true;
      }
    }
    return false;
  }

  /**
   * Dispatches again at `at` (`Infinity`: nothing asked). Each dispatch asks
   * for all it needs, so a wake-up asked for before is moved: earlier at
   * once; later only when it would come {@link REARM_MS} early (a wake-up
   * that finds nothing to do costs this process more than a new timer,
   * while tiny tasks, whose results move the time a little at each
   * dispatch, would otherwise make a timer per result). One left when
   * nothing is asked fires once, for nothing. Never keeps the program alive.
   */
  #arm(at: number, now: number): void {
    if (at === Infinity) return;
    if (this.#timer && this.#timerAt <= at && at - this.#timerAt < REARM_MS) return;
    this.#timer?.resolve(); // cleared
    const timer = this.#timer = Promise.withResolvers<void>();
    this.#timerAt = at;
    const ms = at - now;
    raceTimer(timer.promise, Math.max(1, ms), () => {
      if (this.#timer === timer) this.#timer = undefined;
      this.#wake();
    }, { unref: true });
  }

  /** Clears the pending wake-up, if any (the pool is done). */
  stop(): void {
    this.#timer?.resolve();
    this.#timer = undefined;
  }
}
