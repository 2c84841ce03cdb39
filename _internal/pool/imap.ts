/**
 * `imap` and `imapUnordered`: the input read lazily, a chunk of it per task,
 * with a bounded window of tasks in flight, and results yielded in input
 * order or as they come.
 *
 * @module
 */

/** Submits one chunk of argument lists as a task; resolves its results. */
export type SubmitChunk = (calls: unknown[][]) => Promise<unknown[]>;

/**
 * Yields the results of `submit` over `iterable` in chunks of `size`, with
 * at most `window` chunks in flight; `ordered` keeps input order. What was
 * read before the input failed still comes out, then the input's error.
 */
export async function* imapChunks<T, R>(
  submit: SubmitChunk,
  iterable: Iterable<T> | AsyncIterable<T>,
  size: number,
  window: number,
  ordered: boolean,
): AsyncGenerator<R> {
  const pending: Promise<unknown[]>[] = [];
  let chunk: unknown[][] = [];
  const flush = () => {
    pending.push(submit(chunk));
    chunk = [];
  };
  const take = async () => {
    const i = ordered ? 0 : await Promise.race(pending.map((p, i) => p.then(() => i, () => i)));
    const [p] = pending.splice(i, 1);
    return await p as R[];
  };
  let inputError: { error: unknown } | undefined;
  try {
    for await (const item of iterable) {
      chunk.push([item]);
      if (chunk.length >= size) flush();
      while (pending.length >= window) yield* await take();
    }
  } catch (error) {
    inputError = { error };
  }
  if (chunk.length > 0) flush();
  while (pending.length > 0) yield* await take();
  if (inputError) throw inputError.error;
}
