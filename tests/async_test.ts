// The one timer and abort helper (_internal/base/async.ts).
import { assertEquals, assertRejects } from "@std/assert";
import { ProcessError } from "../mod.ts";
import { withAwakeTimeout } from "../_internal/base/async.ts";

function stall(ms: number): void {
  const end = Date.now() + ms;
  while (Date.now() < end) { /* this process's event loop waits */ }
}

Deno.test("withAwakeTimeout() does not count a stall of this process's event loop", async () => {
  let done!: (v: string) => void;
  const work = new Promise<string>((r) => (done = r));
  const bounded = withAwakeTimeout(work, 200, () => "timed out");
  stall(1000);
  // Settled by a timer made after the stall: a wall-clock timeout of 200 ms
  // would have fired first.
  setTimeout(() => done("done"), 50);
  assertEquals(await bounded, "done");
});

Deno.test("withAwakeTimeout() still rejects once the time has passed awake", async () => {
  const never = new Promise<never>(() => {});
  // The guard's timer never keeps a process alive: this one does, meanwhile.
  const alive = setTimeout(() => {}, 10_000);
  try {
    await assertRejects(
      () => withAwakeTimeout(never, 100, () => "too slow"),
      ProcessError,
      "too slow",
    );
  } finally {
    clearTimeout(alive);
  }
});
