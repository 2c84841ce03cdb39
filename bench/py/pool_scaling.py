"""CPU-bound scaling of Python's multiprocessing.Pool on equal chunks.

The peer of bench/pool_scaling.ts: the same integer mix (FNV-1a rounds), a
fixed number of equal chunks, timed with 1 worker and then with more. Prints
JSON {version, results: [{workers, ms}]}.

    python3 bench/py/pool_scaling.py --rounds-per-chunk N --chunks 64 --workers 1,2
"""

import multiprocessing
import os
import time


def mix(n):
    h = 0x811C9DC5
    for i in range(n):
        h ^= i
        h = (h * 0x01000193) & 0xFFFFFFFF
    return h


def who_after(ms):
    time.sleep(ms / 1000)
    return os.getpid()


def every_worker_up(pool, n):
    """Returns once every worker has run a task (as bench/pool_scaling.ts's)."""
    for _ in range(100):
        if len(set(pool.map(who_after, [20] * (n * 2), chunksize=1))) == n:
            return
    raise RuntimeError("Not every pool worker started after 100 tries")


def main():
    import argparse
    import json
    import sys

    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds-per-chunk", type=int, required=True)
    parser.add_argument("--chunks", type=int, default=64)
    parser.add_argument("--workers", default="1,2")
    parser.add_argument("--method", default="spawn")
    args = parser.parse_args()
    ctx = multiprocessing.get_context(args.method)
    results = []
    for n in [int(w) for w in args.workers.split(",")]:
        with ctx.Pool(n) as pool:
            every_worker_up(pool, n)
            t0 = time.perf_counter()
            pool.map(mix, [args.rounds_per_chunk] * args.chunks, chunksize=1)
            results.append({"workers": n, "ms": (time.perf_counter() - t0) * 1000})
    print(json.dumps({"version": sys.version.split()[0], "results": results}))


if __name__ == "__main__":
    main()
