/**
 * Progress of a map: the caller's `onProgress(done, total)`, called once
 * per settled chunk with the items settled so far, and with `progress:
 * true` a bar on stderr (count, rate, ETA) when stderr is a terminal, and
 * nothing when it is not (a log file gets no carriage returns).
 *
 * @module
 */

/** Called once per settled chunk: items settled so far, and the input's length if known. */
export type OnProgress = (done: number, total: number | undefined) => void;

/** The progress options of a map. */
export interface ProgressOptions {
  /** Called once per settled chunk. */
  onProgress?: OnProgress;
  /** Draw a progress bar on stderr when it is a terminal. */
  progress?: boolean;
}

/** What a map calls: `settled(n)` per settled chunk of `n` items, `end()` once it is over. */
export interface Progress {
  /** A chunk of `n` items settled. */
  settled(n: number): void;
  /** The map is over (the bar's line ends). */
  end(): void;
}

/**
 * The length of an input when it has one to tell (an array, a typed
 * array, a Set or Map, anything with a numeric `length` or `size`): a
 * generator or an async iterable has none.
 */
export function lengthOf(input: unknown): number | undefined {
  if (Array.isArray(input)) return input.length;
  const o = input as { length?: unknown; size?: unknown };
  if (typeof o.length === "number") return o.length;
  if (typeof o.size === "number") return o.size;
  return undefined;
}

/**
 * The progress of a map over `total` items (undefined: unknown), or
 * undefined when the caller asked for none.
 *
 * @throws {TypeError} When `onProgress` is not a function.
 */
export function progressOf(
  options: ProgressOptions,
  total: number | undefined,
  what: string,
): Progress | undefined {
  const { onProgress, progress } = options;
  if (onProgress !== undefined && typeof onProgress !== "function") {
    throw new TypeError(
      `Cannot ${what}: 'onProgress' must be a function, received ${typeof onProgress}`,
    );
  }
  const bar = progress && Deno.stderr.isTerminal() ? new Bar(total) : undefined;
  if (!onProgress && !bar) return undefined;
  let done = 0;
  return {
    settled(n: number): void {
      done += n;
      bar?.draw(done);
      onProgress?.(done, total);
    },
    end: () => bar?.end(),
  };
}

const encoder = new TextEncoder();

/** A progress line redrawn in place, at most every {@link Bar.EVERY_MS} (and at the end). */
class Bar {
  static readonly EVERY_MS = 100;
  #total: number | undefined;
  #t0 = performance.now();
  #drawn = -Infinity;
  #done = 0;
  #ended = false;

  constructor(total: number | undefined) {
    this.#total = total;
  }

  draw(done: number): void {
    this.#done = done;
    const now = performance.now();
    if (now - this.#drawn < Bar.EVERY_MS && done !== this.#total) return;
    this.#drawn = now;
    const width = Math.max(40, Math.min(100, consoleWidth()));
    write(`\r${renderBar(done, this.#total, now - this.#t0, width)}\x1b[K`);
  }

  end(): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#drawn = -Infinity;
    this.draw(this.#done);
    write("\n");
  }
}

function consoleWidth(): number {
  try {
    return Deno.consoleSize().columns;
  } catch {
    return 80;
  }
}

function write(text: string): void {
  try {
    Deno.stderr.writeSync(encoder.encode(text));
  } catch { /* stderr closed: no bar */ }
}

/**
 * One line of the bar, at most `width` characters: `[####----] 25/100 25%
 * 5.0/s ETA 15s`, or `7 items 3.5/s` for an unknown total.
 */
export function renderBar(
  done: number,
  total: number | undefined,
  elapsedMs: number,
  width: number,
): string {
  const rate = elapsedMs > 0 ? done / (elapsedMs / 1000) : 0;
  const perSecond = `${rate >= 100 ? rate.toFixed(0) : rate.toFixed(1)}/s`;
  if (total === undefined) return `${done} items ${perSecond}`.slice(0, width);
  const share = total > 0 ? Math.min(1, done / total) : 1;
  const eta = rate > 0 && done < total ? `ETA ${duration((total - done) / rate)}` : "";
  const tail = ` ${done}/${total} ${Math.floor(share * 100)}% ${perSecond} ${eta}`.trimEnd();
  const cells = Math.max(10, width - tail.length - 2);
  const full = Math.round(share * cells);
  return `[${"#".repeat(full)}${"-".repeat(cells - full)}]${tail}`.slice(0, width);
}

function duration(seconds: number): string {
  const s = Math.ceil(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`;
}
