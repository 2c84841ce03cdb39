"""Scheduling of Python's multiprocessing.Pool (spawn) on uneven work.

The peer of bench/pool_uneven.ts, which runs this script once per sample:

--scenario uneven: on a started Pool(PROCESSES), one task of LONG_MS, then
  SHORTS tasks of SHORT_MS (time.sleep), all submitted with apply_async at
  once; milliseconds from the first submission to the last result.
--scenario burst: Pool(N) created and given N tasks of MS at once
  (map, chunksize 1); milliseconds from the pool's creation to the last
  result, and how many workers ran them.
--scenario slowsource: on a started Pool(PROCESSES), imap(noop, source)
  where the source makes an item every EVERY_MS; milliseconds from the start
  of the iteration to the first result, and to the last.

Prints JSON {scenario, ..., version}.

    python3 bench/py/pool_uneven.py --scenario uneven [--processes 2] [--long-ms 3000] [--short-ms 100] [--shorts 30]
    python3 bench/py/pool_uneven.py --scenario burst [--n 16] [--ms 1000]
    python3 bench/py/pool_uneven.py --scenario slowsource [--processes 2] [--items 10] [--every-ms 100]
"""

import multiprocessing
import os
import time


def noop(x):
    """The task of the slow source: as cheap as a task can be."""
    return x


def sleep_ms(ms):
    """Sleeps (as an I/O-bound task does), then says which worker ran it."""
    time.sleep(ms / 1000)
    return os.getpid()


def started_pool(ctx, processes):
    pool = ctx.Pool(processes)
    for _ in range(500):
        if len(set(pool.map(sleep_ms, [20] * (processes * 2), chunksize=1))) >= processes:
            return pool
    raise SystemExit("not every pool worker started after 500 tries")


def uneven(ctx, args):
    with started_pool(ctx, args.processes) as pool:
        t0 = time.perf_counter()
        pending = [pool.apply_async(sleep_ms, (ms,))
                   for ms in [args.long_ms] + [args.short_ms] * args.shorts]
        for p in pending:
            p.get()
        return {"ms": (time.perf_counter() - t0) * 1000}


def burst(ctx, args):
    t0 = time.perf_counter()
    with ctx.Pool(args.n) as pool:
        pids = pool.map(sleep_ms, [args.ms] * args.n, chunksize=1)
        ms = (time.perf_counter() - t0) * 1000
    return {"ms": ms, "workers": len(set(pids))}


def slowsource(ctx, args):
    def source():
        for i in range(args.items):
            time.sleep(args.every_ms / 1000)
            yield i

    with started_pool(ctx, args.processes) as pool:
        t0 = time.perf_counter()
        first, n = None, 0
        for x in pool.imap(noop, source()):
            if x != n:
                raise SystemExit(f"imap yielded {x} for item {n}")
            n += 1
            if n == 1:
                first = (time.perf_counter() - t0) * 1000
        return {"first_ms": first, "total_ms": (time.perf_counter() - t0) * 1000}


def main():
    import argparse
    import json
    import signal
    import sys

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", choices=["uneven", "burst", "slowsource"], required=True)
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--long-ms", type=float, default=3000)
    parser.add_argument("--short-ms", type=float, default=100)
    parser.add_argument("--shorts", type=int, default=30)
    parser.add_argument("--n", type=int, default=16)
    parser.add_argument("--ms", type=float, default=1000)
    parser.add_argument("--items", type=int, default=10)
    parser.add_argument("--every-ms", type=float, default=100)
    args = parser.parse_args()
    # SIGTERM as an exit, so that daemonic children are terminated at exit.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    ctx = multiprocessing.get_context("spawn")
    out = {"uneven": uneven, "burst": burst, "slowsource": slowsource}[args.scenario](ctx, args)
    print(json.dumps({"scenario": args.scenario, **out, "version": sys.version.split()[0]}))


if __name__ == "__main__":
    main()
