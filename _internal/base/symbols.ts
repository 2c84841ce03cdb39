/**
 * The cross-realm symbols of the library, in one table. Each is registered
 * with `Symbol.for`, so that two copies of the library loaded in one
 * isolate (a file URL and a JSR URL, say) agree on them.
 *
 * @module
 */

/** The method a travelling handle implements: its descriptor (see `hub/handles.ts`). */
export const TO_DESCRIPTOR: unique symbol = Symbol.for(
  "@mp/multiprocessing.toDescriptor",
) as never;

/** Brand on the Process class, found by walking a subclass's prototype chain. */
export const PROCESS_BRAND: unique symbol = Symbol.for(
  "@mp/multiprocessing.Process",
) as never;

/**
 * Key of the option that puts a sandboxed child in a given sandbox (a
 * sandboxed pool's workers share one, so its tasks' grants serve any).
 */
export const SANDBOX_ID: unique symbol = Symbol.for(
  "@mp/multiprocessing.sandboxId",
) as never;

/**
 * Key of the option that moves objects among a worker child's arguments to
 * it (`postMessage`'s transfer list) instead of copying them: a pool gives
 * each worker thread a message port of its own so.
 */
export const TRANSFER: unique symbol = Symbol.for(
  "@mp/multiprocessing.transfer",
) as never;

/**
 * Key of the option that opens a child's report channel (see
 * `Process[READ_REPORT]`), and of the method that reads it.
 */
export const READ_REPORT: unique symbol = Symbol.for(
  "@mp/multiprocessing.readReport",
) as never;

/**
 * Key of a `Connection`'s method that sends a value the library took
 * already (a copy of its own, as `valueNow` makes it: a pool's tasks and
 * results), so that it is not copied a second time.
 */
export const SEND_TAKEN: unique symbol = Symbol.for(
  "@mp/multiprocessing.sendTaken",
) as never;

/** Key of the option that makes a Process object stand for the current process. */
export const CURRENT_SPEC: unique symbol = Symbol.for(
  "@mp/multiprocessing.currentSpec",
) as never;

/**
 * What a channel's `recv()` resolves to once the peer is gone
 * (`transport/channel.ts`): here, so that what only compares with it loads
 * no channel.
 */
export const CLOSED: unique symbol = Symbol("closed");
