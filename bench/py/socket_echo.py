"""A bare Unix-socket echo between two processes: the peer of bench/socket_echo.ts.

A spawned child echoes 20-byte messages; the parent sends one and waits for
it back, N times, three rounds; prints JSON {trips, trips_per_s, version}
with the best round.

    python3 bench/py/socket_echo.py [--trips N]
"""

import multiprocessing
import os
import socket
import tempfile
import time


def serve(path):
    listener = socket.socket(socket.AF_UNIX)
    listener.bind(path)
    listener.listen()
    conn, _ = listener.accept()
    listener.close()
    while True:
        data = conn.recv(64)
        if not data:
            break
        conn.sendall(data)


def main():
    import argparse
    import json
    import sys

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trips", type=int, default=10_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "s")
        child = multiprocessing.get_context("spawn").Process(target=serve, args=(path,), daemon=True)
        child.start()
        while not os.path.exists(path):
            time.sleep(0.005)
        conn = socket.socket(socket.AF_UNIX)
        conn.connect(path)
        msg = b"x" * 20
        best = 0
        for _ in range(3):
            t0 = time.perf_counter()
            for _ in range(args.trips):
                conn.sendall(msg)
                conn.recv(64)
            best = max(best, args.trips / (time.perf_counter() - t0))
        conn.close()
        child.join()
    print(json.dumps({"trips": args.trips, "trips_per_s": best, "version": sys.version.split()[0]}))


if __name__ == "__main__":
    main()
