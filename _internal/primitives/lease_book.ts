/**
 * The items a queue has leased to one peer and that it has not yet
 * acknowledged, by lease number. A get leases its items under consecutive
 * numbers, and a consumer acknowledges them in about that order: they are
 * kept as runs (the batch a get took, with its first number), so that a
 * lease and its ack cost an array write each, not a map entry per item.
 *
 * @module
 */

/** Where an item was, once acknowledged or given back. */
const GONE: unique symbol = Symbol("gone");

interface Run {
  /** The first item's lease number. */
  first: number;
  /** The items, {@link GONE} where acknowledged or given back. */
  items: unknown[];
  /** How many are not gone. */
  live: number;
}

/** One peer's leased items, in the order they were leased. */
export class LeaseBook {
  /** In increasing lease numbers, none empty. */
  #runs: Run[] = [];

  /** Leases `items` under `first`, `first + 1`, …: numbers above any already here. */
  add(first: number, items: unknown[]): void {
    // A copy: the caller's array goes out in the reply.
    if (items.length > 0) this.#runs.push({ first, items: items.slice(), live: items.length });
  }

  /** Removes the item leased under `n` and returns it, or `undefined` when none is (any value). */
  take(n: unknown): { item: unknown } | undefined {
    if (typeof n !== "number" || !Number.isInteger(n)) return undefined;
    const at = this.#find(n);
    if (at < 0) return undefined;
    const run = this.#runs[at];
    const item = run.items[n - run.first];
    if (item === GONE) return undefined;
    run.items[n - run.first] = GONE;
    if (--run.live === 0) this.#runs.splice(at, 1);
    return { item };
  }

  /**
   * Removes the items leased under `first` … `first + count - 1` that are
   * still here (nothing unless both are integers): the work is bounded by
   * what is held, whatever the count.
   */
  takeRun(first: unknown, count: unknown): void {
    if (!Number.isInteger(first) || !Number.isInteger(count)) return;
    const end = (first as number) + (count as number);
    const runs = this.#runs;
    let i = this.#after(first as number);
    while (i < runs.length && runs[i].first < end) {
      const run = runs[i];
      const to = Math.min(end, run.first + run.items.length) - run.first;
      for (let k = Math.max(first as number, run.first) - run.first; k < to; k++) {
        if (run.items[k] === GONE) continue;
        run.items[k] = GONE;
        run.live--;
      }
      if (run.live === 0) runs.splice(i, 1);
      else i++;
    }
  }

  /** The index of the first run with leases from `n` on. */
  #after(n: number): number {
    const runs = this.#runs;
    let lo = 0, hi = runs.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (runs[mid].first + runs[mid].items.length <= n) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** The items still leased, in lease order; the book is left empty. */
  drain(): unknown[] {
    const out: unknown[] = [];
    for (const run of this.#runs) {
      for (const item of run.items) if (item !== GONE) out.push(item);
    }
    this.#runs = [];
    return out;
  }

  /** The index of the run holding lease `n`, or -1. */
  #find(n: number): number {
    const runs = this.#runs;
    // Acks come in about lease order: the first run, mostly.
    if (runs.length > 0 && n >= runs[0].first && n < runs[0].first + runs[0].items.length) {
      return 0;
    }
    let lo = 0, hi = runs.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const run = runs[mid];
      if (n < run.first) hi = mid - 1;
      else if (n >= run.first + run.items.length) lo = mid + 1;
      else return mid;
    }
    return -1;
  }
}
