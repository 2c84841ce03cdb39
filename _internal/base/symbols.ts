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

/** Key of the option that makes a Process object stand for the current process. */
export const CURRENT_SPEC: unique symbol = Symbol.for(
  "@mp/multiprocessing.currentSpec",
) as never;
