/**
 * The library's logger, as Python's `multiprocessing.get_logger()` and
 * `log_to_stderr()`.
 *
 * @module
 */

import { checkLevel, type Logger, logger, type LogLevel } from "../_internal/base/log.ts";

export {
  LOG_ENV,
  Logger,
  type LogHandler,
  type LogLevel,
  type LogRecord,
} from "../_internal/base/log.ts";

/**
 * The library's logger (one per process): off by default. Its records trace
 * spawns, connections, task dispatch and deaths; add a handler to receive
 * them, or call {@link logToStderr}. The `MP_LOG` environment variable
 * (`MP_LOG=debug`) turns stderr logging on at start, when the program
 * already has env access to it (it is never asked for). Keys are never
 * logged.
 *
 * @returns The logger.
 *
 * @example Records to a handler of your own
 * ```ts
 * import { getLogger, type LogRecord } from "@mp/multiprocessing/context";
 * import { assertEquals } from "@std/assert";
 *
 * const log = getLogger();
 * const seen: LogRecord[] = [];
 * const remove = log.addHandler((r) => void seen.push(r));
 * log.level = "info";
 * log.info("hello");
 * assertEquals(seen[0].message, "hello");
 * log.level = "off";
 * remove();
 * ```
 */
export function getLogger(): Logger {
  return logger();
}

/**
 * Logs the library's records to stderr from now on, at `level`, each line
 * naming its process (`[INFO/Process-1] 12:00:00.000 Process-1 started`),
 * as Python's `log_to_stderr()`. Children started afterwards log to stderr
 * too, at the same level.
 *
 * @param level The least level logged.
 * @returns The logger.
 * @throws {RangeError} On an unknown level.
 *
 * @example The library's log on stderr
 * ```ts ignore
 * import { logToStderr } from "@mp/multiprocessing/context";
 *
 * logToStderr("debug"); // spawns, connections, dispatch, deaths on stderr
 * ```
 */
export function logToStderr(level: LogLevel = "info"): Logger {
  const log = logger();
  log.toStderr(checkLevel(level, "log to stderr"));
  return log;
}
