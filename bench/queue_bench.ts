// `deno bench -A --no-check bench/`: Queue throughput parent -> child ->
// parent, per start method; only the transfer is timed, not the child's
// start. The Python peer, interleaved rounds and the target's PASS/MISS are
// in queue_throughput.ts.
//
// --no-check: see process_start_bench.ts (a worker child's module graph
// would be type-checked on every start).

import { queueRoundTrip } from "./_queue.ts";

/** Items per iteration: tens of milliseconds, so a few iterations suffice. */
const ITEMS = 10_000;

for (const [i, startMethod] of (["subprocess", "worker"] as const).entries()) {
  Deno.bench({
    group: `queue round trip, ${ITEMS} items`,
    name: `Queue [${startMethod}]: put ${ITEMS}, child relays, get ${ITEMS}`,
    baseline: i === 0,
    // Every iteration starts a child: few of them, one at a time.
    n: 10,
    warmup: 1,
    // An async function: `deno bench` awaits only those.
    async fn(b) {
      await queueRoundTrip(startMethod, ITEMS, b);
    },
  });
}
