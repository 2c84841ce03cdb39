// The queue host's bookkeeping, below the public API.
import { assertEquals } from "@std/assert";
import { LeaseBook } from "../_internal/primitives/lease_book.ts";

Deno.test("LeaseBook: takes each lease once, ignores unknown numbers, drains in lease order", () => {
  const book = new LeaseBook();
  const batch = ["a", "b", "c"];
  book.add(1, batch);
  book.add(7, ["x"]);
  book.add(9, ["y", "z"]);
  batch[0] = "changed"; // the book keeps its own copy
  assertEquals(book.take(2), { item: "b" });
  assertEquals(book.take(2), undefined, "a lease is taken once");
  for (const n of [0, 4, 8, 11, 1.5, -1, "1", null, NaN, Infinity]) {
    assertEquals(book.take(n), undefined, `no lease ${String(n)}`);
  }
  assertEquals(book.take(7), { item: "x" });
  assertEquals(book.take(10), { item: "z" });
  assertEquals(book.drain(), ["a", "c", "y"]);
  assertEquals(book.drain(), []);
  assertEquals(book.take(1), undefined);
});

Deno.test("LeaseBook: a run acknowledged in full is dropped; later ones are still found", () => {
  const book = new LeaseBook();
  for (let r = 0; r < 50; r++) book.add(1 + 4 * r, [r, r, r, r]);
  for (let n = 1; n <= 100; n++) book.take(n);
  assertEquals(book.take(150), { item: 37 });
  assertEquals(book.drain().length, 99);
});

Deno.test("LeaseBook: takeRun takes what is held in a range, across runs, and ignores the rest", () => {
  const book = new LeaseBook();
  book.add(1, ["a", "b", "c"]);
  book.add(6, ["d", "e"]);
  book.takeRun(2, 5); // 2..6: b, c and d (4 and 5 were never here)
  for (const [first, count] of [[1, -3], [0, 0], [1.5, 2], ["1", 2], [100, 1e12], [-1e300, 1]]) {
    book.takeRun(first, count);
  }
  assertEquals(book.drain(), ["a", "e"]);
  book.add(10, ["f", "g"]);
  book.takeRun(-5, Number.MAX_SAFE_INTEGER);
  assertEquals(book.drain(), []);
});
