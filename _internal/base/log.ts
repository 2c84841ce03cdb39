/**
 * The library's logger, as Python's `multiprocessing.get_logger()`: off by
 * default; `logToStderr(level)` (or the `MP_LOG` environment variable, read
 * only when env access to it is already granted: never asked for) turns on
 * a tracing of spawns, connections, task dispatch and deaths on stderr,
 * each line naming the process it comes from. Children of a process that
 * logs to stderr log to stderr too, at its level, as Python's spawned
 * children do. Keys are never logged.
 *
 * A check costs a comparison when logging is off: trace points on hot
 * paths (a pool's dispatch) test {@link Logger.isEnabledFor} first.
 *
 * @module
 */

import { isolateGlobal, state } from "./state.ts";

/** How much is logged: `"debug"` most, `"off"` nothing. */
export type LogLevel = "debug" | "info" | "warning" | "error" | "off";

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warning: 30, error: 40, off: 100 };

/** One logged event. */
export interface LogRecord {
  /** Its level. */
  level: Exclude<LogLevel, "off">;
  /** What happened. */
  message: string;
  /** The name of the process it happened in (`MainProcess`, `Process-1`…). */
  process: string;
  /** When, in milliseconds since the epoch. */
  time: number;
}

/** Receives each record at or above the logger's level. */
export type LogHandler = (record: LogRecord) => void;

/** The environment variable that turns logging on (`MP_LOG=debug`). */
export const LOG_ENV = "MP_LOG";

/**
 * The library's logger: one per process (per isolate), shared by every copy
 * of the library loaded there. Get it with `getLogger()`.
 *
 * @example Turn records on for a handler, then off again
 * ```ts
 * import { getLogger, type LogRecord } from "@mp/multiprocessing/context";
 * import { assertEquals } from "@std/assert";
 *
 * const log = getLogger();
 * const seen: LogRecord[] = [];
 * const remove = log.addHandler((r) => void seen.push(r));
 * log.level = "warning";
 * assertEquals(log.isEnabledFor("info"), false);
 * log.info("not handled: below the level");
 * log.warning("disk almost full");
 * assertEquals(seen.map((r) => [r.level, r.message]), [["warning", "disk almost full"]]);
 * log.level = "off";
 * remove();
 * ```
 */
export class Logger {
  #level: LogLevel = "off";
  #handlers = new Set<LogHandler>();
  #stderr: LogHandler | undefined;

  /** The level at and above which records go to the handlers. */
  get level(): LogLevel {
    return this.#level;
  }

  set level(level: LogLevel) {
    this.#level = checkLevel(level, "set the log level");
  }

  /**
   * Whether a record of `level` would be handled.
   *
   * @param level The level of the record.
   * @returns True when `level` is at or above the logger's and some handler
   * listens.
   */
  isEnabledFor(level: Exclude<LogLevel, "off">): boolean {
    return RANK[level] >= RANK[this.#level] && this.#handlers.size > 0;
  }

  /**
   * Adds a handler, which receives each record at or above the logger's
   * level from now on.
   *
   * @param handler The function that receives the records.
   * @returns The function that removes the handler.
   */
  addHandler(handler: LogHandler): () => void {
    this.#handlers.add(handler);
    return () => {
      this.#handlers.delete(handler);
    };
  }

  /** The level stderr logging runs at, or undefined when it is off (children inherit it). */
  get stderrLevel(): LogLevel | undefined {
    return this.#stderr ? this.#level : undefined;
  }

  /**
   * Logs to stderr from now on (once: a second call only sets the level).
   *
   * @param level The logger's level from now on.
   */
  toStderr(level: LogLevel): void {
    this.level = level;
    if (this.#stderr) return;
    this.#stderr = writeStderr;
    this.addHandler(writeStderr);
  }

  /**
   * Logs `message` at `level`, when a record of that level would be handled
   * (see {@link Logger.isEnabledFor}). A handler that throws is ignored.
   *
   * @param level The record's level.
   * @param message What happened.
   */
  log(level: Exclude<LogLevel, "off">, message: string): void {
    if (!this.isEnabledFor(level)) return;
    const record = { level, message, process: state().name, time: Date.now() };
    for (const handler of this.#handlers) {
      try {
        handler(record);
      } catch { /* a handler's failure is not the program's */ }
    }
  }

  /**
   * Logs at `"debug"`.
   *
   * @param message What happened.
   */
  debug(message: string): void {
    this.log("debug", message);
  }

  /**
   * Logs at `"info"`.
   *
   * @param message What happened.
   */
  info(message: string): void {
    this.log("info", message);
  }

  /**
   * Logs at `"warning"`.
   *
   * @param message What happened.
   */
  warning(message: string): void {
    this.log("warning", message);
  }

  /**
   * Logs at `"error"`.
   *
   * @param message What happened.
   */
  error(message: string): void {
    this.log("error", message);
  }
}

const encoder = new TextEncoder();

function writeStderr(r: LogRecord): void {
  const time = new Date(r.time).toISOString().slice(11, 23);
  const line = `[${r.level.toUpperCase()}/${r.process}] ${time} ${r.message}\n`;
  try {
    Deno.stderr.writeSync(encoder.encode(line));
  } catch { /* stderr closed: nothing to say it on */ }
}

/** Checks a log level. */
export function checkLevel(level: unknown, what: string): LogLevel {
  if (typeof level === "string" && Object.hasOwn(RANK, level)) return level as LogLevel;
  throw new RangeError(
    `Cannot ${what}: the level must be one of ${
      Object.keys(RANK).map((l) => `"${l}"`).join(", ")
    }, received ${JSON.stringify(level)}`,
  );
}

/** The level `MP_LOG` asks for, when env access to it is granted (never requested). */
function levelFromEnv(): LogLevel | undefined {
  try {
    // A subprocess child runs with --no-prompt (`process/launch.ts`): there
    // a read without the permission throws, and asks nothing. The query's
    // first call cost 0.15-0.19 ms of a child's start.
    const s = state();
    const cannotAsk = s.isChild && !s.isWorker;
    if (
      !cannotAsk &&
      Deno.permissions.querySync({ name: "env", variable: LOG_ENV }).state !== "granted"
    ) {
      return undefined;
    }
    const value = Deno.env.get(LOG_ENV)?.trim().toLowerCase();
    if (!value) return undefined;
    return Object.hasOwn(RANK, value) ? value as LogLevel : "debug";
  } catch {
    return undefined;
  }
}

/** This process's logger, made on first use (stderr logging on when `MP_LOG` says so). */
export function logger(): Logger {
  return isolateGlobal("logger", () => {
    const l = new Logger();
    const level = levelFromEnv();
    if (level && level !== "off") l.toStderr(level);
    return l;
  });
}
