/**
 * Error classes shared by every layer. They live here, below everything, so
 * that every layer can raise them; the public modules re-export them
 * (`context.ts` the general ones, `queue.ts` the queue's, `connection.ts`
 * `EOFError`, `pool.ts` `WorkerDiedError`, `synchronize.ts`
 * `BrokenBarrierError`).
 *
 * @module
 */

/**
 * Base class of the errors this library raises for its own reasons, as
 * Python's `multiprocessing.ProcessError` is.
 *
 * @example Catch any library error
 * ```ts
 * import { ProcessError } from "@mp/multiprocessing";
 * import { assert } from "@std/assert";
 *
 * const err = new ProcessError("Cannot start process: it was already started");
 * assert(err instanceof Error);
 * ```
 */
export class ProcessError extends Error {
  /**
   * Creates an error with a message and an optional cause.
   *
   * @param message What went wrong.
   * @param options The standard error options (`cause`).
   */
  constructor(message?: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}

/**
 * Raised when the HMAC challenge between two endpoints fails: the other side
 * holds a different authkey, or is not speaking this protocol.
 *
 * @example A wrong key is a ProcessError
 * ```ts
 * import { AuthenticationError, ProcessError } from "@mp/multiprocessing";
 * import { assert } from "@std/assert";
 *
 * assert(new AuthenticationError("digest received was wrong") instanceof ProcessError);
 * ```
 */
export class AuthenticationError extends ProcessError {}

/**
 * An error that was thrown in another process or worker and crossed as data.
 * `remoteName` is the class name it had there; `stack` is the remote stack.
 * Built-in error classes (TypeError, RangeError, …) are rebuilt as themselves
 * instead.
 *
 * @example A remote error keeps the remote class's name
 * ```ts
 * import { RemoteError } from "@mp/multiprocessing";
 * import { assertEquals } from "@std/assert";
 *
 * const err = new RemoteError("ValueError", "bad value");
 * assertEquals(err.remoteName, "ValueError");
 * assertEquals(err.message, "bad value");
 * ```
 */
export class RemoteError extends ProcessError {
  /**
   * The name of the error's class where it was thrown (for a thrown value
   * that was not an Error: its `typeof`, and the value is {@link RemoteError.value}).
   */
  readonly remoteName: string;
  /**
   * The thrown value, when what was thrown was not an Error (a string, a
   * plain object…), cloned across; absent otherwise.
   */
  declare readonly value?: unknown;

  /**
   * Creates a remote error.
   *
   * @param remoteName The class name the error had where it was thrown.
   * @param message Its message.
   * @param options The standard error options (`cause`).
   */
  constructor(remoteName: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.remoteName = remoteName;
  }
}

/**
 * A non-blocking or timed `get` found the queue empty (Python's
 * `queue.Empty`).
 *
 * @example Raised by a get that finds nothing
 * ```ts
 * import { QueueEmptyError } from "@mp/multiprocessing";
 * import { assertEquals } from "@std/assert";
 *
 * assertEquals(new QueueEmptyError().name, "QueueEmptyError");
 * ```
 */
export class QueueEmptyError extends ProcessError {
  /**
   * Creates the error.
   *
   * @param message What went wrong; "Cannot get from queue: it is empty" when left out.
   */
  constructor(message = "Cannot get from queue: it is empty") {
    super(message);
  }
}

/**
 * A non-blocking or timed `put` found the queue full (Python's
 * `queue.Full`).
 *
 * @example Raised by a put that finds no room
 * ```ts
 * import { QueueFullError } from "@mp/multiprocessing";
 * import { assertEquals } from "@std/assert";
 *
 * assertEquals(new QueueFullError().name, "QueueFullError");
 * ```
 */
export class QueueFullError extends ProcessError {
  /**
   * Creates the error.
   *
   * @param message What went wrong; "Cannot put to queue: it is full" when left out.
   */
  constructor(message = "Cannot put to queue: it is full") {
    super(message);
  }
}

/**
 * The queue is closed: a `put` after `close()` rejects with it (carrying the
 * item that was not put), and a `get` once it is closed and drained.
 *
 * @example A closed queue gives back the item
 * ```ts
 * import { QueueClosedError } from "@mp/multiprocessing";
 * import { assertEquals } from "@std/assert";
 *
 * const err = new QueueClosedError("Cannot put to queue: it is closed", 42);
 * assertEquals(err.item, 42);
 * ```
 */
export class QueueClosedError extends ProcessError {
  /** The item that was not put, for a rejected `put`. */
  item?: unknown;

  /**
   * Creates the error.
   *
   * @param message What was refused.
   * @param item The item that was not put.
   */
  constructor(message = "Cannot use queue: it is closed", item?: unknown) {
    super(message);
    if (item !== undefined) this.item = item;
  }
}

/**
 * A barrier was broken (aborted, reset, timed out, or its action threw)
 * while a party waited on it, or is broken when one arrives (Python's
 * `threading.BrokenBarrierError`).
 *
 * @example A broken barrier is a ProcessError
 * ```ts
 * import { BrokenBarrierError, ProcessError } from "@mp/multiprocessing";
 * import { assert } from "@std/assert";
 *
 * assert(new BrokenBarrierError() instanceof ProcessError);
 * ```
 */
export class BrokenBarrierError extends ProcessError {
  /**
   * Creates the error.
   *
   * @param message What went wrong; "Cannot pass barrier: it is broken" when left out.
   */
  constructor(message = "Cannot pass barrier: it is broken") {
    super(message);
  }
}

/**
 * Raised by `recv` once the other end is closed and every message sent
 * before has been received (Python's `EOFError`).
 *
 * @example Receiving from a pipe whose other end is closed
 * ```ts
 * import { EOFError, Pipe } from "@mp/multiprocessing/connection";
 * import { assertRejects } from "@std/assert";
 *
 * const [a, b] = Pipe();
 * b.close();
 * await assertRejects(() => a.recv(), EOFError);
 * ```
 */
export class EOFError extends ProcessError {}

/**
 * A pool worker died while it held tasks: each of them fails with this,
 * naming the worker, its pid and how it ended.
 *
 * @example Raised for the tasks a dead pool worker held
 * ```ts
 * import { WorkerDiedError } from "@mp/multiprocessing/pool";
 * import { assertEquals } from "@std/assert";
 *
 * assertEquals(new WorkerDiedError("gone").name, "WorkerDiedError");
 * ```
 */
export class WorkerDiedError extends ProcessError {}

/**
 * The pool cannot run tasks: its workers failed to start (or their
 * initializer failed) several times in a row with none alive. Queued and
 * new tasks reject with it; its `cause` is the last start's error.
 *
 * @example A pool that cannot run tasks, with the cause
 * ```ts
 * import { BrokenPoolError } from "@mp/multiprocessing/pool";
 * import { assertEquals } from "@std/assert";
 *
 * const err = new BrokenPoolError("Cannot run tasks", { cause: new Error("boom") });
 * assertEquals(err.name, "BrokenPoolError");
 * ```
 */
export class BrokenPoolError extends ProcessError {}
