/**
 * Errors as data: what crosses a process boundary for a thrown value, and
 * how it is rebuilt on the other side (built-in and library classes as
 * themselves, anything else as a `RemoteError`), remote stack kept.
 *
 * @module
 */

import {
  AuthenticationError,
  BrokenBarrierError,
  BrokenPoolError,
  EOFError,
  ProcessError,
  QueueClosedError,
  QueueEmptyError,
  QueueFullError,
  RemoteError,
  WorkerDiedError,
} from "../base/errors.ts";

/** An error, as data: what crosses a process boundary for a thrown value. */
export interface ErrorData {
  /** The error's class name (`name` property). */
  name: string;
  /** Its message. */
  message: string;
  /** The stack where it was thrown. */
  stack?: string;
  /** Its cause, itself as data where it was an error. */
  cause?: unknown;
  /** Own enumerable fields (`code`, …) that could be cloned. */
  fields?: Record<string, unknown>;
  /** True when the thrown value was not an Error (a string, a number…). */
  notError?: boolean;
  /** The thrown value itself, when it was not an Error and could be cloned. */
  value?: unknown;
}

/** Classes rebuilt as themselves: the built-ins and this library's own. */
const KNOWN_ERRORS: Record<
  string,
  new (message?: string, options?: ErrorOptions) => Error
> = {
  ProcessError,
  AuthenticationError,
  QueueEmptyError,
  QueueFullError,
  QueueClosedError,
  BrokenBarrierError,
  BrokenPoolError,
  EOFError,
  WorkerDiedError,
  Error,
  TypeError,
  RangeError,
  SyntaxError,
  ReferenceError,
  EvalError,
  URIError,
};

/**
 * Describes a thrown value as cloneable data. `origin` says where a value
 * that is not an Error was thrown (which child, running which export), for
 * its message: such a value has no stack to say it.
 */
export function errorToData(err: unknown, depth = 0, origin?: string): ErrorData {
  if (!(err instanceof Error)) return valueToData(err, origin);
  const data: ErrorData = {
    name: err instanceof DOMException ? err.name : (err.name || "Error"),
    message: err.message,
    stack: err.stack,
  };
  if (err instanceof DOMException) data.fields = { domException: true };
  if ("cause" in err && err.cause !== undefined && depth < 8) {
    data.cause = err.cause instanceof Error
      ? { __error: errorToData(err.cause, depth + 1) }
      : safeClone(err.cause);
  }
  for (const key of Object.keys(err)) {
    if (
      key === "cause" || key === "name" || key === "message" || key === "stack"
    ) continue;
    const value = safeClone((err as unknown as Record<string, unknown>)[key]);
    if (value !== undefined) (data.fields ??= {})[key] = value;
  }
  return data;
}

function valueToData(value: unknown, origin: string | undefined): ErrorData {
  let shown: string;
  try {
    // With an origin the value is shown as a value ("oops" quoted), else as text.
    shown = origin ? Deno.inspect(value, { depth: 2, strAbbreviateSize: 200 }) : String(value);
  } catch {
    shown = Object.prototype.toString.call(value);
  }
  const message = origin ? `${origin} threw a non-Error value: ${shown}` : shown;
  const data: ErrorData = { name: typeof value, message, notError: true };
  const cloned = safeClone(value);
  if (cloned !== undefined || value === undefined) data.value = cloned;
  return data;
}

function safeClone(value: unknown): unknown {
  try {
    return structuredClone(value);
  } catch {
    return undefined;
  }
}

/**
 * Rebuilds an error from its data: built-in classes as themselves, anything
 * else as a {@link RemoteError}; the remote stack is kept.
 */
export function errorFromData(data: ErrorData): Error {
  let cause: unknown = data.cause;
  if (cause && typeof cause === "object" && "__error" in cause) {
    cause = errorFromData((cause as { __error: ErrorData }).__error);
  }
  const options = cause === undefined ? undefined : { cause };
  let err: Error;
  const { domException, ...fields } = data.fields ?? {};
  if (domException) {
    err = new DOMException(data.message, data.name);
  } else if (!data.notError && Object.hasOwn(KNOWN_ERRORS, data.name)) {
    // Constructors differ past the message: set the cause apart.
    err = new KNOWN_ERRORS[data.name](data.message);
    if (options) {
      Object.defineProperty(err, "cause", { value: cause, writable: true, configurable: true });
    }
  } else {
    err = new RemoteError(data.name, data.message, options);
    if (data.notError && "value" in data) {
      Object.defineProperty(err, "value", { value: data.value, enumerable: true });
    }
  }
  if (data.stack) {
    Object.defineProperty(err, "stack", {
      value: data.stack,
      writable: true,
      configurable: true,
    });
  }
  Object.assign(err, fields);
  return err;
}
