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
 *     deno run -A bench/socket_echo.ts --spell
 *
 * prints instead how a round trip's time changes after an idle pause: five
 * pauses of 100 ms, each followed by 20 chunks of 250 trips, µs per trip
 * in each chunk (`SETTLE_MS` in `_manager.ts` says why it matters).
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

/** µs per trip in chunks of 250 trips after each of five idle pauses of 100 ms. */
async function spell(): Promise<void> {
  const echo = await startEcho();
  try {
    await echo.trips(1000);
    for (let pause = 0; pause < 5; pause++) {
      await new Promise((r) => setTimeout(r, 100));
      const t0 = performance.now();
      const chunks: string[] = [];
      for (let c = 0; c < 20; c++) {
        const us = (await echo.trips(250)) * 4;
        chunks.push(`${(performance.now() - t0).toFixed(0)} ms: ${us.toFixed(0)}`);
      }
      console.log(`after pause ${pause + 1}, µs per trip by chunk: ${chunks.join(", ")}`);
    }
  } finally {
    await echo.close();
  }
}

if (import.meta.main && Deno.args.includes("--spell")) await spell();
else if (import.meta.main) {
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
