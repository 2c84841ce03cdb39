/**
 * A message over 1 GiB (issue #15, item 7), through a Pipe to a subprocess
 * child and back as a pool task's result. A manual check, not a test: it
 * needs about 5 GiB of memory. Printed as JSON, per case: the outcome
 * (`ok`, or the error's name and message) and the milliseconds taken.
 *
 *     deno run -A bench/large_message.ts [--mib 1055]
 *
 * @module
 */

import { Pipe } from "../connection.ts";
import type { Connection } from "../connection/connection.ts";
import { Pool } from "../pool.ts";
import { Process } from "../process.ts";

/** The child: receives one value and one bytes message, answers each one's length. */
export async function measure(conn: Connection): Promise<void> {
  const value = await conn.recv() as Uint8Array;
  await conn.send(value.length);
  const bytes = await conn.recvBytes();
  await conn.send(bytes.length);
  conn.close();
}

/** A pool task: a result of `n` bytes. */
export function big(n: number): Uint8Array {
  return new Uint8Array(n).fill(7);
}

async function outcome(fn: () => Promise<unknown>): Promise<{ result: string; ms: number }> {
  const t0 = performance.now();
  try {
    const r = await fn();
    return { result: `ok: ${r}`, ms: Math.round(performance.now() - t0) };
  } catch (err) {
    const e = err as Error;
    return {
      result: `${e.name}: ${e.message.slice(0, 160)}`,
      ms: Math.round(performance.now() - t0),
    };
  }
}

if (import.meta.main) {
  const i = Deno.args.indexOf("--mib");
  const n = (i >= 0 ? Number(Deno.args[i + 1]) : 1055) * 2 ** 20;
  const module = import.meta.url;
  const report: Record<string, unknown> = { bytes: n };
  {
    const [here, there] = Pipe();
    const p = new Process({ target: measure, args: [there], module });
    await p.start();
    const payload = new Uint8Array(n).fill(1);
    report["Pipe.send() of a Uint8Array"] = await outcome(async () => {
      await here.send(payload);
      return await here.recv();
    });
    report["Pipe.sendBytes()"] = await outcome(async () => {
      await here.sendBytes(payload);
      return await here.recv();
    });
    here.close();
    p.kill();
    await p.join();
  }
  {
    await using pool = new Pool({ processes: 1, startMethod: "subprocess" });
    report["Pool.apply() result"] = await outcome(async () =>
      (await pool.apply(big, [n], { module }) as Uint8Array).length
    );
  }
  console.log(JSON.stringify(report, null, 2));
}
