// One sample of the queue round trip (parent -> child -> parent), shared by
// the side-by-side script (queue_throughput.ts) and the `deno bench` file
// (queue_bench.ts). Children import this module for their target, so it
// starts nothing at its top level.

import { Process, type StartMethod } from "../process.ts";
import { Queue } from "../queue.ts";
import { unsuppressed, watchdog } from "./_report.ts";

/** One queue item: small, as a task or a result message would be. */
export interface Item {
  i: number;
  s: string;
}

/** The child: moves `n` items from `a` to `b`, in order. */
export async function relay(a: Queue<Item>, b: Queue<Item>, n: number): Promise<void> {
  for (let k = 0; k < n; k++) await b.put(await a.get());
}

/** What `deno bench` hands a benchmark: marks the timed part of a sample. */
export interface Clock {
  start(): void;
  end(): void;
}

/** Where a sample is, for the watchdog's message. */
interface Progress {
  phase: "start" | "ping" | "put" | "get" | "join";
  put: number;
  got: number;
}

/** The module a child imports for {@link relay}: this one. */
const MODULE = import.meta.url;

function checkItem(item: Item, i: number): void {
  if (item?.i !== i || item.s !== "x") {
    throw new Error(
      `Queue lost or reordered an item: expected { i: ${i}, s: "x" }, ` +
        `received ${JSON.stringify(item)}`,
    );
  }
}

async function transfer(
  a: Queue<Item>,
  b: Queue<Item>,
  p: Process,
  items: number,
  progress: Progress,
  clock: Clock | undefined,
): Promise<number> {
  await p.start();
  progress.phase = "ping";
  await a.put({ i: -1, s: "x" });
  checkItem(await b.get(), -1);

  progress.phase = "put";
  const got: Item[] = [];
  clock?.start();
  const t0 = performance.now();
  for (let i = 0; i < items; i++) {
    await a.put({ i, s: "x" });
    progress.put++;
  }
  progress.phase = "get";
  for (let i = 0; i < items; i++) {
    got.push(await b.get());
    progress.got++;
  }
  const elapsed = performance.now() - t0;
  clock?.end();

  progress.phase = "join";
  await p.join();
  if (p.exitCode !== 0) throw new Error(`The relay child exited with ${p.exitCode}`);
  got.forEach(checkItem);
  return elapsed;
}

/** Milliseconds a sample may take before it counts as hung: 2,000 items/s at worst. */
export function watchdogMs(items: number): number {
  return 30_000 + items / 2;
}

/**
 * One sample: starts a relay child, sends `items` items through it, checks
 * every item came back in order. Rejects loudly on a wrong item, a failed
 * child or a hang (after {@link watchdogMs}, saying where it stuck).
 *
 * @param clock Told when the timed part starts and ends (`deno bench`).
 * @returns Milliseconds from the first put to the last get.
 */
export function queueRoundTrip(
  startMethod: StartMethod,
  items: number,
  clock?: Clock,
): Promise<number> {
  return unsuppressed(() => sample(startMethod, items, clock));
}

async function sample(startMethod: StartMethod, items: number, clock?: Clock): Promise<number> {
  // Disposed in reverse order, also after a hang: the child is terminated,
  // then closing the queues ends any get still waiting.
  await using a = new Queue<Item>();
  await using b = new Queue<Item>();
  await using p = new Process({
    target: relay,
    args: [a, b, items + 1],
    module: MODULE,
    startMethod,
  });
  const progress: Progress = { phase: "start", put: 0, got: 0 };
  const work = transfer(a, b, p, items, progress, clock);
  return await watchdog(work, watchdogMs(items), () => {
    const { phase, put, got } = progress;
    return `Queue [${startMethod}] hung: no result after ${watchdogMs(items)} ms, ` +
      `in phase '${phase}', ${put}/${items} put, ${got}/${items} got`;
  });
}
