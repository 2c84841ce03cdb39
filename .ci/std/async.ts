// Offline stand-in for the subset of `jsr:@std/async` that this repository's
// tests use. Used by `.ci/run` (via `.ci/std/import_map.json`) when jsr.io
// cannot be reached. Names, signatures and behaviour follow @std/async 1.x.

/** Options for {@linkcode delay}. */
export interface DelayOptions {
  /** Signal used to abort the delay. */
  signal?: AbortSignal;
  /** Whether the pending timer keeps the process alive (default `true`). */
  persistent?: boolean;
}

const I32_MAX = 2 ** 31 - 1;

/**
 * Resolves after `ms` milliseconds. If `options.signal` aborts first, the
 * timer is cleared and the promise rejects with `signal.reason`.
 *
 * @param ms How long to wait, in milliseconds.
 * @param options Abort signal and timer persistence.
 * @returns A promise that resolves after the delay.
 */
export function delay(ms: number, options: DelayOptions = {}): Promise<void> {
  const { signal, persistent = true } = options;
  if (signal?.aborted) return Promise.reject(signal.reason);
  return new Promise((resolve, reject) => {
    const end = Date.now() + Math.trunc(Math.max(ms, 0) || 0);
    let id = 0;
    const onAbort = () => {
      clearTimeout(id);
      reject(signal?.reason);
    };
    const arm = () => {
      const left = end - Date.now();
      id = Number(
        setTimeout(left > I32_MAX ? arm : done, Math.min(left, I32_MAX)),
      );
      if (!persistent) Deno.unrefTimer(id);
    };
    const done = () => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    };
    arm();
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/**
 * Makes a promise abortable: the result rejects with `signal.reason` as soon
 * as `signal` aborts (immediately if it already has).
 *
 * @param p The promise to race against the signal.
 * @param signal The abort signal.
 * @returns A promise settling like `p` unless the signal aborts first.
 */
export function abortable<T>(p: Promise<T>, signal: AbortSignal): Promise<T>;
/**
 * Makes an async iterable abortable: iteration throws `signal.reason` as soon
 * as `signal` aborts.
 *
 * @param p The async iterable to wrap.
 * @param signal The abort signal.
 * @returns An async generator yielding `p`'s values until the signal aborts.
 */
export function abortable<T>(
  p: AsyncIterable<T>,
  signal: AbortSignal,
): AsyncGenerator<T>;
export function abortable<T>(
  p: Promise<T> | AsyncIterable<T>,
  signal: AbortSignal,
): Promise<T> | AsyncGenerator<T> {
  return p instanceof Promise ? abortablePromise(p, signal) : abortableIterable(p, signal);
}

function abortablePromise<T>(p: Promise<T>, signal: AbortSignal): Promise<T> {
  const { promise, reject } = Promise.withResolvers<never>();
  const onAbort = () => reject(signal.reason);
  if (signal.aborted) onAbort();
  signal.addEventListener("abort", onAbort, { once: true });
  return Promise.race([promise, p]).finally(() => signal.removeEventListener("abort", onAbort));
}

async function* abortableIterable<T>(
  p: AsyncIterable<T>,
  signal: AbortSignal,
): AsyncGenerator<T> {
  signal.throwIfAborted();
  const { promise, reject } = Promise.withResolvers<never>();
  const onAbort = () => reject(signal.reason);
  signal.addEventListener("abort", onAbort, { once: true });
  const it = p[Symbol.asyncIterator]();
  try {
    while (true) {
      const { done, value } = await Promise.race([promise, it.next()]);
      if (done) return;
      yield value;
    }
  } catch (e) {
    await it.return?.();
    throw e;
  } finally {
    signal.removeEventListener("abort", onAbort);
  }
}

/** Options for {@linkcode deadline}. */
export interface DeadlineOptions {
  /** Signal used to abort the deadline. */
  signal?: AbortSignal;
}

/**
 * Rejects with a `DOMException` named `"TimeoutError"` ("Signal timed out.")
 * if `p` has not settled within `ms` milliseconds, or with the reason of
 * `options.signal` if that aborts first.
 *
 * @param p The promise to bound.
 * @param ms The time limit, in milliseconds.
 * @param options An extra abort signal.
 * @returns A promise settling like `p` unless the deadline passes first.
 */
export function deadline<T>(
  p: Promise<T>,
  ms: number,
  options: DeadlineOptions = {},
): Promise<T> {
  const signals = [AbortSignal.timeout(ms)];
  if (options.signal) signals.push(options.signal);
  return abortable(p, AbortSignal.any(signals));
}

/** A debounced function, see {@linkcode debounce}. */
export interface DebouncedFunction<T extends Array<unknown>> {
  (...args: T): void;
  /** Clears the pending call without running it. */
  clear(): void;
  /** Runs the pending call now, if any. */
  flush(): void;
  /** Whether a call is pending. */
  readonly pending: boolean;
}

/**
 * Returns a function that calls `fn` only after `wait` ms have passed without
 * another call; each call restarts the timer with the latest arguments.
 *
 * @param fn The function to debounce.
 * @param wait The quiet period, in milliseconds.
 * @returns The debounced function.
 */
// deno-lint-ignore no-explicit-any
export function debounce<T extends Array<any>>(
  fn: (this: DebouncedFunction<T>, ...args: T) => void,
  wait: number,
): DebouncedFunction<T> {
  let timer: number | undefined;
  let pendingCall: (() => void) | undefined;
  const clear = () => {
    if (timer === undefined) return;
    clearTimeout(timer);
    timer = undefined;
    pendingCall = undefined;
  };
  const debounced = ((...args: T) => {
    clear();
    pendingCall = () => {
      clear();
      fn.call(debounced, ...args);
    };
    timer = Number(setTimeout(pendingCall, wait));
  }) as DebouncedFunction<T>;
  return Object.defineProperties(debounced, {
    clear: { value: clear },
    flush: { value: () => pendingCall?.() },
    pending: { get: () => timer !== undefined },
  });
}

/** Error thrown by {@linkcode retry} once all attempts have failed. */
export class RetryError extends Error {
  /**
   * Constructs a RetryError.
   *
   * @param cause The error thrown by the last attempt.
   * @param attempts The number of attempts made.
   */
  constructor(cause: unknown, attempts: number) {
    super(`Retrying exceeded the maxAttempts (${attempts}).`);
    this.name = "RetryError";
    this.cause = cause;
  }
}

/** Options for {@linkcode retry}. */
export interface RetryOptions {
  /** Backoff multiplier per attempt (default 2). */
  multiplier?: number;
  /** Maximum milliseconds between attempts (default 60000). */
  maxTimeout?: number;
  /** Maximum number of attempts (default 5). */
  maxAttempts?: number;
  /** Initial and minimum milliseconds between attempts (default 1000). */
  minTimeout?: number;
  /** Amount of jitter, 0 (none) to 1 (full, the default). */
  jitter?: number;
  /** Decides whether a thrown value is worth retrying (default: always). */
  isRetriable?: (err: unknown) => boolean;
}

/**
 * Calls `fn` until it succeeds, at most `maxAttempts` times, waiting an
 * exponentially growing, jittered delay between attempts. Throws a
 * {@linkcode RetryError} (with the last error as `cause`) when all attempts
 * fail, or rethrows at once an error that `isRetriable` rejects.
 *
 * @param fn The (possibly async) function to call.
 * @param options Backoff settings.
 * @returns The first successful result of `fn`.
 */
export async function retry<T>(
  fn: (() => Promise<T>) | (() => T),
  options?: RetryOptions,
): Promise<T> {
  const {
    multiplier = 2,
    maxTimeout = 60000,
    maxAttempts = 5,
    minTimeout = 1000,
    jitter = 1,
    isRetriable = () => true,
  } = options ?? {};
  const bad = (what: string) => new RangeError(`Cannot retry as ${what}`);
  if (!Number.isInteger(maxAttempts) || maxAttempts < 1) {
    throw bad(
      `'maxAttempts' must be a positive integer: current value is ${maxAttempts}`,
    );
  }
  if (!Number.isFinite(multiplier) || multiplier < 1) {
    throw bad(
      `'multiplier' must be a finite number >= 1: current value is ${multiplier}`,
    );
  }
  if (Number.isNaN(maxTimeout) || maxTimeout <= 0) {
    throw bad(
      `'maxTimeout' must be a positive number: current value is ${maxTimeout}`,
    );
  }
  if (Number.isNaN(minTimeout) || minTimeout < 0) {
    throw bad(`'minTimeout' must be >= 0: current value is ${minTimeout}`);
  }
  if (minTimeout > maxTimeout) {
    throw bad(
      `'minTimeout' must be <= 'maxTimeout': current values 'minTimeout=${minTimeout}', 'maxTimeout=${maxTimeout}'`,
    );
  }
  if (Number.isNaN(jitter) || jitter < 0 || jitter > 1) {
    throw bad(`'jitter' must be between 0 and 1: current value is ${jitter}`);
  }
  for (let attempt = 0;; attempt++) {
    try {
      return await fn();
    } catch (error) {
      if (!isRetriable(error)) throw error;
      if (attempt + 1 >= maxAttempts) throw new RetryError(error, maxAttempts);
      const backoff = Math.min(maxTimeout, minTimeout * multiplier ** attempt);
      await delay((1 - jitter * Math.random()) * backoff);
    }
  }
}

const MAPPING_FAILED = "Cannot complete the mapping as an error was thrown from an item";

/**
 * Maps `array` through `iteratorFn` with at most `poolLimit` calls running at
 * once, yielding results in input order. After a failure no new calls start;
 * running ones finish (successes are still yielded) and then iteration throws
 * an `AggregateError` of the failures.
 *
 * @param poolLimit The maximum number of concurrent calls.
 * @param array The (async) iterable of inputs.
 * @param iteratorFn The async mapping function.
 * @returns An async iterator of the mapped values.
 */
export function pooledMap<T, R>(
  poolLimit: number,
  array: Iterable<T> | AsyncIterable<T>,
  iteratorFn: (data: T) => Promise<R>,
): AsyncIterableIterator<R> {
  const queue: Promise<R>[] = [];
  let finished = false;
  let failure: AggregateError | undefined;
  let wake: (() => void) | undefined;
  const notify = () => {
    wake?.();
    wake = undefined;
  };
  (async () => {
    const running = new Set<Promise<unknown>>();
    try {
      for await (const item of array) {
        const job = Promise.resolve().then(() => iteratorFn(item));
        job.catch(() => {});
        queue.push(job);
        notify();
        const slot: Promise<unknown> = job.then(() => running.delete(slot));
        slot.catch(() => {});
        running.add(slot);
        if (running.size >= poolLimit) await Promise.race(running);
      }
      await Promise.all(running);
    } catch {
      const settled = await Promise.allSettled(running);
      const errors = settled.flatMap((r) => r.status === "rejected" ? [r.reason] : []);
      failure = new AggregateError(errors, MAPPING_FAILED);
    }
    finished = true;
    notify();
  })();
  return (async function* () {
    while (true) {
      const job = queue.shift();
      if (job) {
        const result = await job.then((value) => ({ value }), () => undefined);
        if (result) yield result.value;
      } else if (finished) {
        if (failure) throw failure;
        return;
      } else {
        await new Promise<void>((resolve) => wake = resolve);
      }
    }
  })();
}
