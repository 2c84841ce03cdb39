/**
 * `imap` and `imapUnordered`: the input read lazily, a chunk of it per task,
 * with a bounded window of tasks in flight, and results yielded as soon as
 * they can be (in input order, or as they come), through an iterator that
 * goes on after a failed chunk, as Python's does.
 *
 * The reading of the input and the yielding of results run side by side: a
 * slow source gets its first result out after its first chunk, not once
 * the window is full (issue #15 item 2). Each task's promise gets one
 * handler, so a result costs O(1) whatever the window (a race over the
 * whole window at each step cost O(window) per result, and leaked).
 *
 * @module
 */

/** Submits one chunk of items (one call each) as a task; resolves its results. */
export type SubmitChunk = (items: unknown[]) => Promise<unknown[]>;

/** A chunk's outcome, once settled. */
interface Outcome {
  ok: boolean;
  value: unknown;
}

/** Chunks in flight and results waiting to be yielded; see the module doc. */
class Window {
  /** Ordered: every chunk in flight, in input order. Unordered: settled chunks, as they came. */
  #queue: ({ outcome?: Outcome })[] = [];
  #head = 0;
  /** Chunks submitted and not yet yielded: the window's fill. */
  inFlight = 0;
  #wakeConsumer: (() => void) | undefined;
  #wakeProducer: (() => void) | undefined;

  constructor(readonly ordered: boolean) {}

  /** Tracks a submitted chunk. */
  add(p: Promise<unknown[]>): void {
    this.inFlight++;
    const entry: { outcome?: Outcome } = {};
    if (this.ordered) this.#queue.push(entry);
    p.then(
      (value) => this.#settled(entry, { ok: true, value }),
      (value) => this.#settled(entry, { ok: false, value }),
    );
  }

  #settled(entry: { outcome?: Outcome }, outcome: Outcome): void {
    entry.outcome = outcome;
    if (!this.ordered) this.#queue.push(entry);
    this.wake();
  }

  /** The next outcome to yield, if it is there. */
  take(): Outcome | undefined {
    const entry = this.#queue[this.#head];
    if (!entry?.outcome) return undefined;
    this.#queue[this.#head++] = undefined as never;
    if (this.#head * 2 >= this.#queue.length && this.#head >= 64) {
      this.#queue = this.#queue.slice(this.#head);
      this.#head = 0;
    }
    this.inFlight--;
    this.#wakeProducer?.();
    return entry.outcome;
  }

  /** Wakes whoever waits: the consumer for a result, the producer for room. */
  wake(): void {
    this.#wakeConsumer?.();
    this.#wakeProducer?.();
  }

  /** Resolves at the next {@link Window.wake} (one waiter: the consumer). */
  consumerWait(): Promise<void> {
    return new Promise((resolve) => {
      this.#wakeConsumer = () => {
        this.#wakeConsumer = undefined;
        resolve();
      };
    });
  }

  /** Resolves at the next wake or taken result (one waiter: the producer). */
  producerWait(): Promise<void> {
    return new Promise((resolve) => {
      this.#wakeProducer = () => {
        this.#wakeProducer = undefined;
        resolve();
      };
    });
  }
}

type AnyIterator<T> = Iterator<T> | AsyncIterator<T>;

function iteratorOf<T>(iterable: Iterable<T> | AsyncIterable<T>): AnyIterator<T> {
  const asyncIt = (iterable as AsyncIterable<T>)[Symbol.asyncIterator];
  return asyncIt ? asyncIt.call(iterable) : (iterable as Iterable<T>)[Symbol.iterator]();
}

/** How reading the input went. */
interface Input {
  /** No more chunks will come. */
  done: boolean;
  /** The input threw this. */
  error?: { error: unknown };
  /** The consumer stopped: read no more. */
  stopped: boolean;
}

/** Reads the input into chunks and submits them, never more than `window` in flight. */
async function produce<T>(
  it: AnyIterator<T>,
  submit: SubmitChunk,
  size: number,
  win: Window,
  window: number,
  input: Input,
): Promise<void> {
  let chunk: unknown[] = [];
  try {
    while (!input.stopped) {
      while (win.inFlight >= window && !input.stopped) await win.producerWait();
      if (input.stopped) break;
      // A synchronous input fills the window in one go: its tasks reach
      // the workers in batches, not one message each.
      let r = it.next();
      if (r instanceof Promise) r = await r;
      if (r.done || input.stopped) break;
      chunk.push(r.value);
      if (chunk.length >= size) {
        win.add(submit(chunk));
        chunk = [];
      }
    }
  } catch (error) {
    input.error = { error };
  }
  // What was read before the input ended or failed still goes.
  if (chunk.length > 0 && !input.stopped) win.add(submit(chunk));
  input.done = true;
  win.wake();
}

/**
 * The iterator `imap` returns, as Python's `IMapIterator`: `next()` rejects
 * for a failed chunk and, called again, goes on with the chunks after it (a
 * `for await` loop stops at the first error, as JavaScript's loops do). What
 * was read before the input failed still comes out, then the input's error,
 * then the end. `return()` (a loop's `break`) stops reading the input and
 * closes it.
 */
class ResultIterator<R> implements AsyncIterableIterator<R> {
  #it: AnyIterator<unknown>;
  #win: Window;
  #input: Input = { done: false, stopped: false };
  #producing: Promise<void>;
  #values: R[] = [];
  #next = 0;
  #finished = false;
  // Calls made before the last settled wait their turn, as a generator's do.
  #turn: Promise<unknown> = Promise.resolve();
  #onEnd: (() => void) | undefined;

  constructor(
    submit: SubmitChunk,
    iterable: Iterable<unknown> | AsyncIterable<unknown>,
    size: number,
    window: number,
    ordered: boolean,
    onEnd?: () => void,
  ) {
    this.#onEnd = onEnd;
    this.#it = iteratorOf(iterable);
    this.#win = new Window(ordered);
    this.#producing = produce(this.#it, submit, size, this.#win, window, this.#input);
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  next(): Promise<IteratorResult<R>> {
    const p = this.#turn.then(() => this.#step());
    this.#turn = p.catch(() => {});
    return p;
  }

  async #step(): Promise<IteratorResult<R>> {
    while (true) {
      if (this.#next < this.#values.length) {
        return { value: this.#values[this.#next++], done: false };
      }
      if (this.#finished) return { value: undefined, done: true };
      const outcome = this.#win.take();
      if (outcome) {
        [this.#values, this.#next] = [[], 0];
        if (!outcome.ok) throw outcome.value;
        this.#values = outcome.value as R[];
      } else if (this.#input.done && this.#win.inFlight === 0) {
        this.#finish();
        if (this.#input.error) throw this.#input.error.error;
      } else {
        await this.#win.consumerWait();
      }
    }
  }

  #finish(): void {
    if (this.#finished) return;
    this.#finished = true;
    this.#onEnd?.();
  }

  async return(): Promise<IteratorResult<R>> {
    this.#finish();
    this.#values = [];
    if (!this.#input.done) {
      this.#input.stopped = true;
      this.#win.wake();
      await this.#it.return?.();
      await this.#producing;
    }
    return { value: undefined, done: true };
  }
}

/**
 * The results of `submit` over `iterable` in chunks of `size`, with at most
 * `window` chunks in flight (results taken free their place); `ordered`
 * keeps input order; `onEnd` is called once the iteration is over. See
 * {@link ResultIterator} for errors and stopping.
 */
export function imapChunks<T, R>(
  submit: SubmitChunk,
  iterable: Iterable<T> | AsyncIterable<T>,
  size: number,
  window: number,
  ordered: boolean,
  onEnd?: () => void,
): AsyncIterableIterator<R> {
  return new ResultIterator<R>(submit, iterable, size, window, ordered, onEnd);
}

/**
 * An `imap` that could not start (a bad option, a function that cannot be a
 * task): its first `next()` rejects with `err`, and it is done after that.
 */
export function failedIterator<R>(err: unknown): AsyncIterableIterator<R> {
  let failed = false;
  const it: AsyncIterableIterator<R> = {
    [Symbol.asyncIterator]: () => it,
    next: () => {
      if (failed) return Promise.resolve({ value: undefined, done: true });
      failed = true;
      return Promise.reject(err);
    },
    return: () => {
      failed = true;
      return Promise.resolve({ value: undefined, done: true });
    },
  };
  return it;
}
