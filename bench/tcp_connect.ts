/**
 * Connecting to a manager over TCP and over a Unix socket (issue #12, item
 * 5: Nagle's algorithm held back the handshake's frames on TCP), medians of
 * `--times` `BaseManager.connect()`s (a connection, the authkey challenge both
 * ways, and the question of which object is the registry):
 *
 *     deno run -A bench/tcp_connect.ts [--times 30] [--json PATH]
 *
 * @module
 */

import { BaseManager, Manager } from "../manager.ts";

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1];
}

async function connects(m: BaseManager, times: number): Promise<number> {
  const ms: number[] = [];
  for (let i = 0; i < times; i++) {
    const t0 = performance.now();
    const c = new BaseManager({ address: m.address, authkey: m.authkey });
    await c.connect();
    ms.push(performance.now() - t0);
    await c[Symbol.asyncDispose]();
  }
  return median(ms);
}

if (import.meta.main) {
  const at = (n: string) => Deno.args.indexOf(n);
  const times = at("--times") >= 0 ? Number(Deno.args[at("--times") + 1]) : 30;
  const json = at("--json") >= 0 ? Deno.args[at("--json") + 1] : undefined;
  const variants: Record<string, { median_ms: number }> = {};
  for (const [name, opts] of [["tcp", { address: { port: 0 } }], ["unix", {}]] as const) {
    const samples: number[] = [];
    for (let round = 0; round < 3; round++) {
      await using m = await Manager.start({ ...opts, authkey: "bench-key-0123456789" });
      samples.push(await connects(m, Math.ceil(times / 3)));
    }
    variants[`connect [${name}]`] = { median_ms: median(samples) };
  }
  console.log(JSON.stringify(variants));
  if (json) await Deno.writeTextFile(json, JSON.stringify({ variants }));
}
