/**
 * The worker command's flags.
 *
 * @module
 */

/** What the command line asks for. */
export interface WorkerArgs {
  command: "serve" | "status" | "help";
  servers: string[];
  name: string;
  processes?: number;
  prefetch?: number;
  startMethod?: "subprocess" | "worker";
  modules: string[];
  root?: string;
  authkeyFile?: string;
  user?: string;
  host?: string;
  ackWait?: number;
  maxAttempts?: number;
  runtimeArgs: string[];
  json: boolean;
}

/** The command's usage. */
export const USAGE = `Usage:
  MP_AUTHKEY=<hex> deno run -A <…>/cluster/worker [serve] --servers URL[,URL…] --name NAME
      [--processes N] [--prefetch N] [--start-method subprocess|worker]
      [--modules PREFIX]… [--root DIR] [--authkey-file PATH] [--user USER] [--host NAME]
      [--ack-wait MS] [--max-attempts N] [--runtime-arg FLAG]…
  deno run -A <…>/cluster/worker status --servers URL --name NAME [--json]

The authkey comes from MP_AUTHKEY (hex) or --authkey-file, never from the command line;
a NATS password or token from MP_NATS_PASS or MP_NATS_TOKEN.`;

function count(flag: string, value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) {
    throw new RangeError(`${flag} must be a positive integer, received '${value}'`);
  }
  return n;
}

function startMethod(value: string): "subprocess" | "worker" {
  if (value !== "subprocess" && value !== "worker") {
    throw new RangeError(`--start-method must be subprocess or worker, received '${value}'`);
  }
  return value;
}

const list = (value: string) => value.split(",").filter(Boolean);

/** What each flag that takes a value does with it. */
const FLAGS: Record<string, (out: WorkerArgs, value: string, flag: string) => void> = {
  "--servers": (o, v) => o.servers.push(...list(v)),
  "--name": (o, v) => (o.name = v),
  "--processes": (o, v, f) => (o.processes = count(f, v)),
  "--prefetch": (o, v, f) => (o.prefetch = count(f, v)),
  "--ack-wait": (o, v, f) => (o.ackWait = count(f, v)),
  "--max-attempts": (o, v, f) => (o.maxAttempts = count(f, v)),
  "--start-method": (o, v) => (o.startMethod = startMethod(v)),
  "--modules": (o, v) => o.modules.push(...list(v)),
  "--root": (o, v) => (o.root = v),
  "--authkey-file": (o, v) => (o.authkeyFile = v),
  "--user": (o, v) => (o.user = v),
  "--host": (o, v) => (o.host = v),
  "--runtime-arg": (o, v) => o.runtimeArgs.push(v),
};

/**
 * Parses the command line.
 *
 * @throws {TypeError} On an unknown flag, a missing value, or an authkey on the command line.
 * @throws {RangeError} On a bad number.
 */
export function parseArgs(argv: string[]): WorkerArgs {
  const out: WorkerArgs = {
    command: "serve",
    servers: [],
    name: "",
    modules: [],
    runtimeArgs: [],
    json: false,
  };
  const args = [...argv];
  if (args[0] === "serve" || args[0] === "status" || args[0] === "help") {
    out.command = args.shift() as WorkerArgs["command"];
  }
  for (let i = 0; i < args.length; i++) {
    const eq = args[i].startsWith("--") ? args[i].indexOf("=") : -1;
    const flag = eq > 0 ? args[i].slice(0, eq) : args[i];
    if (flag === "--json") out.json = true;
    else if (flag === "--help" || flag === "-h") out.command = "help";
    else if (flag === "--authkey") {
      throw new TypeError(
        "The authkey never goes on the command line: set MP_AUTHKEY or use --authkey-file",
      );
    } else if (!Object.hasOwn(FLAGS, flag)) throw new TypeError(`Unknown option ${flag}`);
    else {
      const value = eq > 0 ? args[i].slice(eq + 1) : args[++i];
      if (value === undefined) throw new TypeError(`${flag} needs a value`);
      FLAGS[flag](out, value, flag);
    }
  }
  if (out.command !== "help" && (out.servers.length === 0 || !out.name)) {
    throw new TypeError("--servers and --name are required");
  }
  return out;
}
