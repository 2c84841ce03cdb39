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
import { startEcho } from "./_echo.ts";

async function measure(trips: number): Promise<number> {
  const echo = await startEcho();
  let best = 0;
  try {
    for (let round = 0; round < 3; round++) {
      best = Math.max(best, trips / (await echo.trips(trips) / 1000));
    }
  } finally {
    await echo.close();
  }
  return best;
}

if (import.meta.main) {
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
