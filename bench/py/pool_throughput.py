"""Throughput of Python's multiprocessing.Pool, spawn start method.

The peer of bench/pool_throughput.ts, which runs this script once per round
and mode. A Pool of PROCESSES spawned workers runs TASKS no-op tasks,
noop(i) for i < TASKS, either as map(noop, range(TASKS), chunksize=1)
(--mode map) or as apply_async(noop, (i,)) for each i, then .get() on each
(--mode apply). Timed inside the interpreter from the first submission to
the last result; every worker has run a task (so all are started and have
imported this module), and a warm-up of the same mode has run, before the
clock starts. The results are checked in order. Prints JSON
{tasks, mode, processes, elapsed_ms, tasks_per_s, sum, version}.

    python3 bench/py/pool_throughput.py [--tasks 20000] [--mode map|apply] [--processes 2]
"""

import multiprocessing
import os
import time

# Tasks of the warm-up before the clock, as bench/_pool.ts.
WARMUP_TASKS = 2000
# Rounds of whoami before giving up on a worker that never starts.
START_TRIES = 500


def noop(x):
    """The task: as cheap as a task can be."""
    return x


def whoami(seconds):
    """Which worker ran it, after a pause long enough that every started worker gets one."""
    time.sleep(seconds)
    return os.getpid()


def all_started(pool, processes):
    for _ in range(START_TRIES):
        if len(set(pool.map(whoami, [0.02] * (processes * 2), chunksize=1))) >= processes:
            return
    raise SystemExit(f"not every pool worker started after {START_TRIES} tries")


def submit(pool, mode, items):
    if mode == "map":
        return pool.map(noop, items, chunksize=1)
    pending = [pool.apply_async(noop, (i,)) for i in items]
    return [r.get() for r in pending]


def check(results, n):
    if results != list(range(n)):
        raise SystemExit(f"the pool returned {len(results)} results summing to {sum(results)}, "
                         f"expected {n} summing to {n * (n - 1) // 2}")


def run(ctx, mode, n, processes):
    # Leaving the with block terminates the workers (daemonic: they are
    # terminated at exit too, should the Deno side's watchdog stop this).
    with ctx.Pool(processes) as pool:
        all_started(pool, processes)
        check(submit(pool, mode, range(WARMUP_TASKS)), WARMUP_TASKS)
        items = range(n)
        t0 = time.perf_counter()
        results = submit(pool, mode, items)
        elapsed = time.perf_counter() - t0
    check(results, n)
    return elapsed, sum(results)


def main():
    # Imported here, not at the top: a spawned child imports this module as
    # __mp_main__, and the peer should not pay for imports it does not need.
    import argparse
    import json
    import signal
    import sys

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=20_000)
    parser.add_argument("--mode", choices=["map", "apply"], default="map")
    parser.add_argument("--processes", type=int, default=2)
    args = parser.parse_args()
    if args.tasks < 1 or args.processes < 1:
        raise SystemExit(f"--tasks and --processes must be positive, "
                         f"received {args.tasks} {args.processes}")
    # SIGTERM as an exit, so that daemonic children are terminated at exit.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    ctx = multiprocessing.get_context("spawn")
    elapsed, total = run(ctx, args.mode, args.tasks, args.processes)
    print(json.dumps({
        "tasks": args.tasks,
        "mode": args.mode,
        "processes": args.processes,
        "elapsed_ms": elapsed * 1000,
        "tasks_per_s": args.tasks / elapsed,
        "sum": total,
        "version": sys.version.split()[0],
    }))


if __name__ == "__main__":
    main()
