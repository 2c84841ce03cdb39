"""Start-up time of Python's multiprocessing.Process (spawn by default).

The peer of bench/process_start.ts, which runs this script once per round.
Prints JSON {median_ms, p90_ms, samples, version}: milliseconds of
Process(...) + start() + join() of an empty target, timed inside the
interpreter so that the interpreter's own start is not counted.

    python3 bench/py/process_start.py [--rounds N] [--warmup N]
"""

import multiprocessing
import time


def empty():
    pass


def quantile(samples, q):
    """Linear interpolation between closest ranks, as bench/_report.ts."""
    s = sorted(samples)
    pos = (len(s) - 1) * q
    lo = int(pos)
    hi = min(lo + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (pos - lo)


def start_join(ctx):
    t0 = time.perf_counter()
    p = ctx.Process(target=empty)
    p.start()
    p.join()
    elapsed = (time.perf_counter() - t0) * 1000
    if p.exitcode != 0:
        raise SystemExit(f"the child exited with {p.exitcode}")
    return elapsed


def main():
    # Imported here, not at the top: a spawned child imports this module as
    # __mp_main__, and the peer should not pay for imports it does not need.
    import argparse
    import json
    import sys

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20)
    # The first start of an interpreter also launches the resource tracker
    # and imports the spawn machinery: a one-time cost, as Deno's warm-up is.
    parser.add_argument("--warmup", type=int, default=1)
    # forkserver: Python 3.14's default on Linux; its server starts with the
    # first child (warm-up), and is then what each start asks.
    parser.add_argument("--method", default="spawn", choices=["spawn", "forkserver", "fork"])
    args = parser.parse_args()
    ctx = multiprocessing.get_context(args.method)
    for _ in range(args.warmup):
        start_join(ctx)
    samples = [start_join(ctx) for _ in range(args.rounds)]
    print(json.dumps({
        "median_ms": quantile(samples, 0.5),
        "p90_ms": quantile(samples, 0.9),
        "samples": samples,
        "version": sys.version.split()[0],
    }))


if __name__ == "__main__":
    main()
