"""Python's manager proxies: queue round trips from a pool worker, and dict calls.

The peer of bench/manager_throughput.ts, which runs this script once per
round. Two measurements, each timed inside the interpreter, after the
manager and the pool are up and connected:

- queue: a Pool worker (spawn) does N times `q.put(i); q.get()` on a
  `Manager().Queue()`; the worker times its loop.
- stream: the same worker does N puts, then N gets.
- dict: the main process does N times `d["k"] = i; d["k"]` on a
  `Manager().dict()` (2N proxy calls).

Prints JSON {queue_ms, stream_ms, dict_ms, items, calls, version} (the one
asked for with --only, or all).

    python3 bench/py/manager_throughput.py [--items N] [--calls N] [--only queue|stream|dict]
"""

import multiprocessing
import time


def queue_task(q, n):
    """In a pool worker: n put+get round trips; returns the seconds taken."""
    q.put(-1)
    q.get()
    t0 = time.perf_counter()
    for i in range(n):
        q.put(i)
        if q.get() != i:
            raise SystemExit("an item came back wrong")
    return time.perf_counter() - t0


def stream_task(q, n):
    """In a pool worker: n puts, then n gets; returns the seconds taken."""
    q.put(-1)
    q.get()
    t0 = time.perf_counter()
    for i in range(n):
        q.put(i)
    for i in range(n):
        if q.get() != i:
            raise SystemExit("an item came back wrong")
    return time.perf_counter() - t0


def dict_calls(d, n):
    d["k"] = -1
    t0 = time.perf_counter()
    for i in range(n):
        d["k"] = i
        if d["k"] != i:
            raise SystemExit("a value came back wrong")
    return time.perf_counter() - t0


def main():
    import argparse
    import json
    import signal
    import sys

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=5_000)
    parser.add_argument("--calls", type=int, default=5_000, help="set+get pairs")
    parser.add_argument("--only", choices=["queue", "stream", "dict"])
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    ctx = multiprocessing.get_context("spawn")
    out = {"items": args.items, "calls": args.calls * 2, "version": sys.version.split()[0]}
    with ctx.Manager() as m:
        if args.only in (None, "queue", "stream"):
            q = m.Queue()
            with ctx.Pool(1) as pool:
                pool.apply(queue_task, (q, 10))  # the worker is up and connected
                if args.only != "stream":
                    out["queue_ms"] = pool.apply(queue_task, (q, args.items)) * 1000
                if args.only != "queue":
                    out["stream_ms"] = pool.apply(stream_task, (q, args.items)) * 1000
        if args.only in (None, "dict"):
            out["dict_ms"] = dict_calls(m.dict(), args.calls) * 1000
    print(json.dumps(out))


if __name__ == "__main__":
    main()
