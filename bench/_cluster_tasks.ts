// The task functions of bench/cluster_throughput.ts: the agents' pool
// workers import this module, so it holds nothing else (a pool worker
// looks its target up among the module's exports).

/** The task: as cheap as a task can be, so that only the cluster's cost is measured. */
export function noop(x: number): number {
  return x;
}

/** The pid of the worker process that runs it, after `ms` ms. */
export async function pidAfter(ms: number): Promise<number> {
  await new Promise((r) => setTimeout(r, ms));
  return Deno.pid;
}
