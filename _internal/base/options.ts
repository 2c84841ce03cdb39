/**
 * Option names checked at the boundary: an options object with a name the
 * callee does not know (`startmethod`, `procesess`) would otherwise be
 * ignored without a word, and the program would do something else than
 * its author thinks. The error names the closest valid option.
 *
 * @module
 */

/** The names an options object may hold, made once per kind of options. */
export type OptionNames = ReadonlySet<string>;

/** The set of valid names, for {@link checkOptionNames}. */
export function optionNames(...names: string[]): OptionNames {
  return new Set(names);
}

/**
 * Throws a `TypeError` for the first own key of `options` not in `known`,
 * naming the closest valid one ("Cannot create pool: 'procesess' is not an
 * option; did you mean 'processes'?"). Costs a `for…in` over the object: a
 * per-call options object is usually empty or absent.
 *
 * @throws {TypeError} On an unknown option name.
 */
export function checkOptionNames(what: string, options: unknown, known: OptionNames): void {
  if (typeof options !== "object" || options === null) return;
  for (const key in options) {
    if (!known.has(key)) throw unknownOption(what, key, known);
  }
}

function unknownOption(what: string, key: string, known: OptionNames): TypeError {
  const near = closest(key, known);
  const hint = near ? `; did you mean '${near}'?` : `; the options are ${[...known].join(", ")}`;
  return new TypeError(`Cannot ${what}: '${key}' is not an option${hint}`);
}

/** The known name nearest to `key` (case aside), if one is near enough to be a typo. */
export function closest(key: string, known: Iterable<string>): string | undefined {
  let best: string | undefined, bestDistance = Infinity;
  const k = key.toLowerCase();
  for (const name of known) {
    const n = name.toLowerCase();
    // A name that starts the other (`blocking` for `block`) is as near as a typo.
    const d = k.startsWith(n) || n.startsWith(k) ? 1 : distance(k, n);
    if (d < bestDistance) [best, bestDistance] = [name, d];
  }
  return bestDistance <= Math.max(2, Math.floor(key.length / 3)) ? best : undefined;
}

/** Edit distance with transpositions (optimal string alignment). */
function distance(a: string, b: string): number {
  const rows = Array.from({ length: a.length + 1 }, (_, i) => [i, ...new Array(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) rows[0][j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min(rows[i - 1][j] + 1, rows[i][j - 1] + 1, rows[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        d = Math.min(d, rows[i - 2][j - 2] + 1);
      }
      rows[i][j] = d;
    }
  }
  return rows[a.length][b.length];
}
