/**
 * Argument checks of `new Process(options)`, at the boundary, with the
 * house's messages ("Cannot create process: 'x' must be …, received …").
 *
 * @module
 */

import { checkOptionNames, optionNames } from "../base/options.ts";

/** The names of the options `Process` takes. */
export const PROCESS_OPTIONS = optionNames(
  "target",
  "args",
  "name",
  "daemon",
  "startMethod",
  "permissions",
  "module",
  "runtimeArgs",
  "clone",
);

/** The options `Process` takes, as far as checking them goes. */
export interface CheckedOptions {
  target?: unknown;
  args?: unknown;
  name?: unknown;
  daemon?: unknown;
  startMethod?: unknown;
  module?: unknown;
  runtimeArgs?: unknown;
}

/**
 * Throws a `TypeError` or `RangeError` naming the first bad option.
 */
export function validateOptions(o: CheckedOptions): void {
  if (typeof o !== "object" || o === null) {
    throw new TypeError(
      `Cannot create process: options must be an object, received ${
        o === null ? "null" : typeof o
      }`,
    );
  }
  checkOptionNames("create process", o, PROCESS_OPTIONS);
  if (o.target !== undefined && typeof o.target !== "function") {
    throw new TypeError(
      `Cannot create process: 'target' must be a function, received ${typeof o
        .target}`,
    );
  }
  if (o.args !== undefined && !Array.isArray(o.args)) {
    throw new TypeError(
      `Cannot create process: 'args' must be an array, received ${typeof o
        .args}`,
    );
  }
  if (o.name !== undefined && typeof o.name !== "string") {
    throw new TypeError(
      `Cannot create process: 'name' must be a string, received ${typeof o
        .name}`,
    );
  }
  if (o.daemon !== undefined && typeof o.daemon !== "boolean") {
    throw new TypeError(
      `Cannot create process: 'daemon' must be a boolean, received ${typeof o
        .daemon}`,
    );
  }
  if (
    o.startMethod !== undefined && o.startMethod !== "subprocess" &&
    o.startMethod !== "worker"
  ) {
    throw new RangeError(
      `Cannot create process: 'startMethod' must be "subprocess" or "worker", received '${o.startMethod}'`,
    );
  }
  if (
    o.module !== undefined && typeof o.module !== "string" &&
    !(o.module instanceof URL)
  ) {
    throw new TypeError(
      `Cannot create process: 'module' must be a URL or string, received ${typeof o
        .module}`,
    );
  }
  if (
    o.runtimeArgs !== undefined &&
    (!Array.isArray(o.runtimeArgs) ||
      o.runtimeArgs.some((a) => typeof a !== "string"))
  ) {
    throw new TypeError(
      "Cannot create process: 'runtimeArgs' must be an array of strings",
    );
  }
}
