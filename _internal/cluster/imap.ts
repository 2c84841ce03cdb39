/**
 * `imap` and `imapUnordered` over any submit function: the input is read
 * lazily, at most `window` tasks are in flight, results come in order (or as
 * they are ready), and an input that throws yields what came before it, then
 * its error (as the local pool does).
 *
 * @module
 */

/** Yields the results of `submit` over chunks of `size` items of `input`. */
export async function* imapOver<T, R>(
  input: Iterable<T> | AsyncIterable<T>,
  size: number,
  window: number,
  ordered: boolean,
  submit: (chunk: unknown[][]) => Promise<unknown[]>,
): AsyncGenerator<R> {
  const pending: Promise<unknown[]>[] = [];
  let chunk: unknown[][] = [];
  const flush = () => {
    const p = submit(chunk);
    p.catch(() => {}); // Awaited by take(); not unhandled meanwhile.
    pending.push(p);
    chunk = [];
  };
  const take = async () => {
    const i = ordered ? 0 : await Promise.race(pending.map((p, i) => p.then(() => i, () => i)));
    const [p] = pending.splice(i, 1);
    return await p as R[];
  };
  let inputError: { error: unknown } | undefined;
  try {
    for await (const item of input) {
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
