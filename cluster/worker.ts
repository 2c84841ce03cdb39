/**
 * The worker agent command: makes a host one of a cluster's workers, or
 * prints the cluster's figures.
 *
 *     MP_AUTHKEY=<hex> deno run -A jsr:@mp/multiprocessing/cluster/worker \
 *       --servers nats://10.0.0.5:4222 --name jobs --processes 8 \
 *       --modules file:///srv/app/ --root /srv/app
 *     deno run -A jsr:@mp/multiprocessing/cluster/worker status --servers … --name … [--json]
 *
 * The authkey comes from `MP_AUTHKEY` (hex) or `--authkey-file` (a file
 * holding it, as hex), never from the command line; without one the agent
 * refuses to start. A NATS password or token comes from `MP_NATS_PASS` or
 * `MP_NATS_TOKEN`. SIGINT or SIGTERM stops the agent gracefully: it takes
 * no more tasks and finishes those it holds; a second signal exits at once.
 *
 * @example Start an agent from a program
 * ```ts ignore
 * import { main } from "@mp/multiprocessing/cluster/worker";
 *
 * // The authkey comes from MP_AUTHKEY; SIGINT or SIGTERM stops the agent.
 * const servers = Deno.env.get("NATS_URL") ?? "nats://127.0.0.1:4222";
 * Deno.exit(await main(["--servers", servers, "--name", "jobs", "--processes", "2"]));
 * ```
 *
 * @module
 */

import { Cluster, type ClusterOptions, type ServeOptions } from "../cluster.ts";
import { formatStatus } from "../_internal/cluster/status.ts";
import { parseArgs, USAGE, type WorkerArgs } from "../_internal/cluster/worker_args.ts";

function authkey(args: WorkerArgs, forStatus: boolean): string | Uint8Array {
  if (args.authkeyFile) return Deno.readTextFileSync(args.authkeyFile).trim();
  const env = Deno.env.get("MP_AUTHKEY");
  if (env) return env.trim();
  // The figures need no key: nothing is signed or verified to read them.
  if (forStatus) return crypto.getRandomValues(new Uint8Array(32));
  throw new TypeError(
    "Cannot start worker agent: no authkey; set MP_AUTHKEY (hex) or pass --authkey-file " +
      "(never on the command line)",
  );
}

function connectOptions(args: WorkerArgs, forStatus: boolean): ClusterOptions {
  return {
    servers: args.servers,
    name: args.name,
    authkey: authkey(args, forStatus),
    user: args.user,
    pass: Deno.env.get("MP_NATS_PASS"),
    token: Deno.env.get("MP_NATS_TOKEN"),
    host: args.host,
    root: args.root,
    ackWait: args.ackWait,
    maxAttempts: args.maxAttempts,
  };
}

async function status(args: WorkerArgs): Promise<number> {
  await using cluster = await Cluster.connect(connectOptions(args, true));
  const s = await cluster.status();
  if (args.json || !Deno.stdout.isTerminal()) console.log(JSON.stringify(s, null, 2));
  else console.log(formatStatus(s));
  return 0;
}

async function serve(args: WorkerArgs): Promise<number> {
  await using cluster = await Cluster.connect(connectOptions(args, false));
  const options: ServeOptions = {
    processes: args.processes,
    prefetch: args.prefetch,
    startMethod: args.startMethod,
    modules: args.modules.length > 0 ? args.modules : undefined,
    runtimeArgs: args.runtimeArgs.length > 0 ? args.runtimeArgs : undefined,
    root: args.root,
  };
  const agent = await cluster.serve(options);
  const r = agent.record();
  console.log(
    `agent ${r.id} serving cluster ${cluster.name} on ${r.host} (pid ${r.pid}): ` +
      `${r.processes} processes, ${r.slots} slots, modules ${r.modules.join(" ")}`,
  );
  let signals = 0;
  const stop = () => {
    if (++signals > 1) Deno.exit(130);
    agent.close();
  };
  Deno.addSignalListener("SIGINT", stop);
  Deno.addSignalListener("SIGTERM", stop);
  try {
    await agent.closed;
  } finally {
    Deno.removeSignalListener("SIGINT", stop);
    Deno.removeSignalListener("SIGTERM", stop);
  }
  return 0;
}

/**
 * Runs the command.
 *
 * @param args The command line: `[serve|status] --servers … --name … [flags]`.
 * @returns The exit code: 0, or 2 on a usage error (an agent without an authkey included).
 * @throws {Error} The NATS client's error when the server cannot be reached.
 *
 * @example Print a cluster's figures as JSON
 * ```ts ignore
 * import { main } from "@mp/multiprocessing/cluster/worker";
 *
 * const servers = Deno.env.get("NATS_URL") ?? "nats://127.0.0.1:4222";
 * Deno.exit(await main(["status", "--servers", servers, "--name", "jobs", "--json"]));
 * ```
 */
export async function main(args: string[]): Promise<number> {
  let parsed: WorkerArgs;
  try {
    parsed = parseArgs(args);
    if (parsed.command === "status") return await status(parsed);
    if (parsed.command === "help") {
      console.log(USAGE);
      return 0;
    }
    return await serve(parsed);
  } catch (err) {
    if (!(err instanceof TypeError || err instanceof RangeError)) throw err;
    console.error(`${err.message}\n\n${USAGE}`);
    return 2;
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
