"""Throughput of Python's multiprocessing.Queue, spawn start method.

The peer of bench/queue_throughput.ts, which runs this script once per
round. The parent puts N small dicts into queue A, a child gets each from A
and puts it into queue B, the parent gets N items from B. Timed inside the
interpreter from the first put to the last get; the child is started, and
one item has made the round trip (so both ends are connected), before the
clock starts. Prints JSON {items, elapsed_ms, items_per_s, version}.

    python3 bench/py/queue_throughput.py [--items N]
"""

import multiprocessing
import time


def relay(a, b, n):
    """The child: n items from a to b, in order."""
    for _ in range(n):
        b.put(a.get())


def run(ctx, n):
    a = ctx.Queue()
    b = ctx.Queue()
    # Daemonic: if the parent is stopped (the Deno side's watchdog), the
    # child is terminated rather than left blocked in get().
    p = ctx.Process(target=relay, args=(a, b, n + 1), daemon=True)
    p.start()
    # The ping: the child has started, imported this module and connected.
    a.put({"i": -1, "s": "x"})
    if b.get() != {"i": -1, "s": "x"}:
        raise SystemExit("the ping came back wrong")

    t0 = time.perf_counter()
    for i in range(n):
        a.put({"i": i, "s": "x"})
    got = [b.get() for _ in range(n)]
    elapsed = time.perf_counter() - t0

    p.join()
    if p.exitcode != 0:
        raise SystemExit(f"the child exited with {p.exitcode}")
    for i, item in enumerate(got):
        if item != {"i": i, "s": "x"}:
            raise SystemExit(f"item {i} came back as {item!r}")
    return elapsed


def main():
    # Imported here, not at the top: a spawned child imports this module as
    # __mp_main__, and the peer should not pay for imports it does not need.
    import argparse
    import json
    import signal
    import sys

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=100_000)
    args = parser.parse_args()
    if args.items < 1:
        raise SystemExit(f"--items must be positive, received {args.items}")
    # SIGTERM as an exit, so that daemonic children are terminated at exit.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    elapsed = run(multiprocessing.get_context("spawn"), args.items)
    print(json.dumps({
        "items": args.items,
        "elapsed_ms": elapsed * 1000,
        "items_per_s": args.items / elapsed,
        "version": sys.version.split()[0],
    }))


if __name__ == "__main__":
    main()
