"""A large map on Python's multiprocessing.Pool (spawn).

The peer of bench/pool_large_map.ts, which runs this script once per sample
(a process each, so that its peak memory is its own). On a started Pool(2),
warmed up with a map of the same chunksize, map(noop, range(ITEMS)) with
CHUNKSIZE (0: Python's default). Prints JSON {items, chunksize, elapsed_ms,
peak_rss_mib, base_rss_mib, version}: the time from the call to the results,
this process's peak resident memory (VmHWM), and its resident memory before
the map.

    python3 bench/py/pool_large_map.py [--items 1000000] [--chunksize 0]
"""

import multiprocessing


def noop(x):
    """The task: as cheap as a task can be."""
    return x


def status(field):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    return float("nan")


def main():
    import argparse
    import json
    import signal
    import sys
    import time

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=1_000_000)
    parser.add_argument("--chunksize", type=int, default=0)
    args = parser.parse_args()
    # SIGTERM as an exit, so that daemonic children are terminated at exit.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    chunksize = args.chunksize or None
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(2) as pool:
        pool.map(noop, range(20_000), chunksize)
        base = status("VmRSS")
        t0 = time.perf_counter()
        out = pool.map(noop, range(args.items), chunksize)
        elapsed = time.perf_counter() - t0
        peak = status("VmHWM")
    if out != list(range(args.items)):
        raise SystemExit("wrong results")
    print(json.dumps({
        "items": args.items,
        "chunksize": args.chunksize,
        "elapsed_ms": elapsed * 1000,
        "peak_rss_mib": peak,
        "base_rss_mib": base,
        "version": sys.version.split()[0],
    }))


if __name__ == "__main__":
    main()
