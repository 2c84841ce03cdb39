/**
 * `map` and `starmap`: the input cut into chunks, submitted a window at a
 * time, results written into one array in input order.
 *
 * Chunks are submitted as earlier ones finish, never more than the window
 * at once, as Python's pool feeds its task queue from a generator: a map of
 * a million items with chunksize 1 held a million tasks, their promises
 * and messages at once (960 MiB, against Python's 53 MiB), and each chunk's
 * results were kept until all were in, then flattened.
 *
 * @module
 */

/** Submits the chunk of input from `start` to `end` (exclusive); resolves its results. */
export type SubmitRange = (start: number, end: number) => Promise<unknown[]>;

/**
 * The results of `submit` over `n` items in chunks of `size`, at most
 * `window` chunks in flight; rejects with the first error (no chunk is
 * submitted after it).
 */
export function mapChunks(
  n: number,
  size: number,
  window: number,
  submit: SubmitRange,
): Promise<unknown[]> {
  return new Promise((resolve, reject) => {
    const out = new Array<unknown>(n);
    let next = 0, inFlight = 0, done = 0, failed = false;
    const fill = (): void => {
      while (!failed && inFlight < window && next < n) {
        const start = next, end = Math.min(n, start + size);
        next = end;
        inFlight++;
        submit(start, end).then((values) => {
          inFlight--;
          for (let i = 0; i < values.length; i++) out[start + i] = values[i];
          done += end - start;
          if (done === n) resolve(out);
          else fill();
        }, (err) => {
          if (!failed) reject(err);
          failed = true;
        });
      }
    };
    if (n === 0) resolve(out);
    else fill();
  });
}
