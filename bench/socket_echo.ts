/**
 * The floor under any one-at-a-time manager call: a bare Unix-socket echo
 * between two processes, Deno and Python side by side.
 *
 *     deno run -A bench/socket_echo.ts [--trips N]
 *     PYTHON="env PYENV_VERSION=3.13.0 python3" deno run -A bench/socket_echo.ts
 *
 * A child process echoes 20-byte messages; the parent sends one, waits for
 * it back, N times, three rounds; the best round is reported. Python's peer
 * (`py/socket_echo.py`) does the same with a spawned `multiprocessing`
 * child.
 *
 * @module
 */

import { peerScript, runPython } from "./_report.ts";

/** The child: echoes what it reads until the connection closes. */
async function serve(path: string): Promise<void> {
  const listener = Deno.listen({ transport: "unix", path });
  console.log("ready");
  const conn = await listener.accept();
  listener.close();
  const buf = new Uint8Array(64);
  while (true) {
    const n = await conn.read(buf);
    if (n === null) break;
    await conn.write(buf.subarray(0, n));
  }
  conn.close();
}

async function measure(trips: number): Promise<number> {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/s`;
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", import.meta.filename!, "--serve", path],
    stdout: "piped",
  }).spawn();
  const ready = child.stdout.getReader();
  await ready.read();
  ready.releaseLock();
  const conn = await Deno.connect({ transport: "unix", path });
  const msg = new Uint8Array(20);
  const buf = new Uint8Array(64);
  let best = 0;
  for (let round = 0; round < 3; round++) {
    const t0 = performance.now();
    for (let i = 0; i < trips; i++) {
      await conn.write(msg);
      await conn.read(buf);
    }
    best = Math.max(best, trips / ((performance.now() - t0) / 1000));
  }
  conn.close();
  await child.stdout.cancel();
  await child.status;
  await Deno.remove(dir, { recursive: true });
  return best;
}

if (import.meta.main) {
  if (Deno.args[0] === "--serve") {
    await serve(Deno.args[1]);
  } else {
    const i = Deno.args.indexOf("--trips");
    const trips = i >= 0 ? Number(Deno.args[i + 1]) : 10_000;
    if (!Number.isInteger(trips) || trips < 1) {
      throw new RangeError(`--trips must be a positive integer, received ${Deno.args[i + 1]}`);
    }
    const deno = await measure(trips);
    console.log(
      `Deno ${Deno.version.deno}: ${Math.round(deno).toLocaleString("en-US")} round trips/s`,
    );
    try {
      const py = await runPython<{ trips_per_s: number; version: string }>(
        peerScript("socket_echo.py"),
        ["--trips", String(trips)],
        120_000,
      );
      console.log(
        `Python ${py.version}: ${Math.round(py.trips_per_s).toLocaleString("en-US")} round trips/s`,
      );
      console.log(`Deno / Python: ${(deno / py.trips_per_s).toFixed(2)}x`);
    } catch (err) {
      console.error(`Skipping Python: ${(err as Error).message}`);
    }
  }
}
