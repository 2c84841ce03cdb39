/**
 * The parent's call site of a task or a child's start, appended to the
 * stack of an error that comes back from it, after a line `Submitted at:`,
 * as Python prints the remote traceback and then the local one. The remote
 * error's `cause` is left as it is.
 *
 * The site is captured with `Error.captureStackTrace` on a bare object,
 * frames above the public method left out. V8 records the frames when it is
 * called and formats them only when the stack is read; the capture alone
 * costs about 2.3 µs (measured), a fifth of a pool task's round trip, so a
 * pool call's site is taken only once its error reaches the code that
 * awaits it ({@link awaitSited}), and a call that succeeds costs none.
 *
 * @module
 */

/** A captured call site (its `stack` is formatted on first read). */
export interface CallSite {
  /** "Error\n    at …": the frames of the call. */
  readonly stack?: string;
}

const HEADER = "\nSubmitted at:\n";

/** Captures the frames of the caller of `above` (the public method). */
// deno-lint-ignore ban-types
export function callSite(above: Function): CallSite {
  const site: { stack?: string } = {};
  Error.captureStackTrace(site, above);
  return site;
}

// Errors given a site here: once each, whatever the stack already holds (a
// nested pool's site, from a task that used a pool itself, stays).
const SITED = new WeakSet<Error>();

/**
 * Appends the call site to `err`'s stack (an Error's only, and once: an
 * error shared by several tasks keeps the first site). `except` is left
 * alone: the reason of the caller's own signal is the caller's object.
 */
export function withCallSite<E>(err: E, site: CallSite, except?: unknown): E {
  if (!(err instanceof Error) || err === except || SITED.has(err)) return err;
  const stack = err.stack;
  const frames = site.stack?.slice(site.stack.indexOf("\n") + 1);
  if (typeof stack !== "string" || !frames) return err;
  setStack(err, `${stack}${HEADER}${frames}`);
  SITED.add(err);
  return err;
}

/**
 * Takes back the site {@link withCallSite} appended: for an error that goes
 * on to another process (a cluster agent's local pool ran the task), whose
 * own call site is the one that matters.
 */
export function withoutCallSite<E>(err: E): E {
  if (!(err instanceof Error) || !SITED.has(err)) return err;
  SITED.delete(err);
  const stack = err.stack ?? "";
  setStack(err, stack.slice(0, stack.lastIndexOf(HEADER)));
  return err;
}

function setStack(err: Error, stack: string): void {
  Object.defineProperty(err, "stack", { value: stack, writable: true, configurable: true });
}

/**
 * Awaits `p`; its error, unless `own` says it is the caller's own (its
 * signal's reason, its input's error), gets the site of the code that awaits
 * this. That site is V8's async stack trace, taken as the error surfaces:
 * the chain of functions awaiting this one (an `await` of a thenable whose
 * `then` calls this counts), so nothing is captured for a call that
 * succeeds. A caller that takes the error in a `.then()` callback instead of
 * awaiting it has no such chain: its error is left as it is.
 */
export async function awaitSited<T>(p: Promise<T>, own?: (err: unknown) => boolean): Promise<T> {
  try {
    return await p;
  } catch (err) {
    if (own?.(err)) throw err;
    throw withCallSite(err, callSite(awaitSited));
  }
}
