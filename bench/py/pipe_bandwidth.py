"""Bandwidth of Python's multiprocessing.Pipe, spawn start method.

The peer of bench/pipe_bandwidth.ts, which runs this script once per round.
The parent sends COUNT messages of SIZE bytes with send_bytes (one buffer,
its index stamped in bytes 0-3 before each send); a child receives them with
recv_bytes (with --into: recv_bytes_into, into one buffer it reuses), checks each one's length, order and a few sampled bytes, then
sends back one small ack (byte count, checksum of the sampled bytes), which
the parent checks too. Timed inside the interpreter from the first send to
the ack; the child is started, and a ping has made the round trip, before
the clock starts. Prints JSON {bytes, elapsed_ms, mib_per_s, version}.

    python3 bench/py/pipe_bandwidth.py [--count 64] [--size 1048576] [--into]
"""

import multiprocessing
import time


def pattern_byte(j):
    """The byte at offset j of every message, as bench/_pipe.ts."""
    return (j ^ (j >> 8) ^ (j >> 16)) & 0xFF


def sample_offsets(k, size):
    """The offsets checked in message k, as bench/_pipe.ts."""
    return [0, 1, 2, 3, 4, size >> 2, size >> 1, size - 1, 4 + (k * 4099) % (size - 4)]


def fold_checksum(total, k, msg):
    for j in sample_offsets(k, len(msg)):
        total = (total * 31 + msg[j] + 1) & 0xFFFFFFFF
    return total


def expected_byte(k, j):
    return (k >> (8 * j)) & 0xFF if j < 4 else pattern_byte(j)


def sink(conn, count, size, into):
    """The child: echoes the ping, receives and checks count messages, acks.

    With into, it receives with recv_bytes_into into one reused buffer.
    """
    conn.send_bytes(conn.recv_bytes())
    received = 0
    checksum = 0
    buf = bytearray(size) if into else None
    for k in range(count):
        if into:
            msg = memoryview(buf)[: conn.recv_bytes_into(buf)]
        else:
            msg = conn.recv_bytes()
        if len(msg) != size:
            raise SystemExit(f"Pipe corrupted message {k}: {len(msg)} bytes, expected {size}")
        for j in sample_offsets(k, size):
            if msg[j] != expected_byte(k, j):
                raise SystemExit(
                    f"Pipe corrupted message {k} at byte {j}: {msg[j]}, "
                    f"expected {expected_byte(k, j)}"
                )
        received += len(msg)
        checksum = fold_checksum(checksum, k, msg)
    conn.send((received, checksum))
    conn.close()


def run(ctx, count, size, into):
    buf = bytearray(pattern_byte(j) for j in range(size))
    here, there = ctx.Pipe()
    # Daemonic: if the parent is stopped (the Deno side's watchdog), the
    # child is terminated rather than left blocked in recv_bytes().
    p = ctx.Process(target=sink, args=(there, count, size, into), daemon=True)
    p.start()
    there.close()
    # The ping: the child has started, imported this module and is reading.
    here.send_bytes(b"ping")
    if here.recv_bytes() != b"ping":
        raise SystemExit("the ping came back wrong")

    t0 = time.perf_counter()
    for k in range(count):
        buf[0:4] = k.to_bytes(4, "little")
        here.send_bytes(buf)
    try:
        ack = here.recv()
    except EOFError:
        p.join(5)
        raise SystemExit(f"no ack, the child exited with {p.exitcode} (its error is above)")
    elapsed = time.perf_counter() - t0

    p.join()
    here.close()
    if p.exitcode != 0:
        raise SystemExit(f"the child exited with {p.exitcode}")
    checksum = 0
    for k in range(count):
        buf[0:4] = k.to_bytes(4, "little")
        checksum = fold_checksum(checksum, k, buf)
    if ack != (count * size, checksum):
        raise SystemExit(f"the child acked {ack!r}, expected {(count * size, checksum)!r}")
    return elapsed


def main():
    # Imported here, not at the top: a spawned child imports this module as
    # __mp_main__, and the peer should not pay for imports it does not need.
    import argparse
    import json
    import signal
    import sys

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=64)
    parser.add_argument("--size", type=int, default=1 << 20)
    parser.add_argument("--into", action="store_true", help="receive with recv_bytes_into")
    args = parser.parse_args()
    if args.count < 1 or args.size < 16:
        raise SystemExit(f"--count must be >= 1 and --size >= 16, received {args.count} {args.size}")
    # SIGTERM as an exit, so that daemonic children are terminated at exit.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    elapsed = run(multiprocessing.get_context("spawn"), args.count, args.size, args.into)
    total = args.count * args.size
    print(json.dumps({
        "bytes": total,
        "elapsed_ms": elapsed * 1000,
        "mib_per_s": total / (1 << 20) / elapsed,
        "version": sys.version.split()[0],
    }))


if __name__ == "__main__":
    main()
