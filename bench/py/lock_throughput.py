"""Python's multiprocessing.Lock between processes, spawn start method.

The peer of bench/lock_throughput.ts, which runs this script once per
sample. --mode uncontended: one child does N acquire/release pairs;
contended: --procs children share N pairs on one lock; counter: --procs
children share N increments of a Value under its lock (with
v.get_lock(): v.value += 1). Children and the parent pass a Barrier
together; the sample is the wall-clock time from there to the last
child's finish. Prints JSON {mode, ops, procs, elapsed_ms, version}.

    python3 bench/py/lock_throughput.py [--mode M] [--ops N] [--procs K]
"""

import multiprocessing
import time


def pairs(lock, n, go, out, slot):
    go.wait()
    for _ in range(n):
        lock.acquire()
        lock.release()
    out[slot] = time.time() * 1000


def increments(counter, n, go, out, slot):
    go.wait()
    lock = counter.get_lock()
    for _ in range(n):
        with lock:
            counter.value += 1
    out[slot] = time.time() * 1000


def run(ctx, mode, ops, procs):
    k = 1 if mode == "uncontended" else procs
    per = ops // k
    lock = ctx.Lock()
    counter = ctx.Value("i", 0)
    go = ctx.Barrier(k + 1)
    out = ctx.Array("d", k)
    target, first = (increments, counter) if mode == "counter" else (pairs, lock)
    children = [
        ctx.Process(target=target, args=(first, per, go, out, slot), daemon=True)
        for slot in range(k)
    ]
    for p in children:
        p.start()
    go.wait()
    t0 = time.time() * 1000
    for p in children:
        p.join()
        if p.exitcode != 0:
            raise SystemExit(f"a child exited with {p.exitcode}")
    if mode == "counter" and counter.value != per * k:
        raise SystemExit(f"the counter lost updates: {counter.value} of {per * k}")
    return max(out[:]) - t0


def main():
    import argparse
    import json
    import signal
    import sys

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mode", choices=["uncontended", "contended", "counter"], default="uncontended")
    parser.add_argument("--ops", type=int, default=200_000)
    parser.add_argument("--procs", type=int, default=2)
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    elapsed = run(multiprocessing.get_context("spawn"), args.mode, args.ops, args.procs)
    print(json.dumps({
        "mode": args.mode,
        "ops": args.ops,
        "procs": args.procs,
        "elapsed_ms": elapsed,
        "version": sys.version.split()[0],
    }))


if __name__ == "__main__":
    main()
