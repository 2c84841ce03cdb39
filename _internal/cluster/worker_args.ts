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

const COUNTS = { "--processes": "processes", "--prefetch": "prefetch", "--ack-wait": "ackWait" };

function count(flag: string, value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) {
    throw new RangeError(`${flag} must be a positive integer, received '${value}'`);
  }
  return n;
}

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
    const eq = args[i].indexOf("=");
    const flag = eq > 0 && args[i].startsWith("--") ? args[i].slice(0, eq) : args[i];
    if (flag === "--json") {
      out.json = true;
      continue;
    }
    if (flag === "--help" || flag === "-h") {
      out.command = "help";
      continue;
    }
    if (flag === "--authkey") {
      throw new TypeError(
        "The authkey never goes on the command line: set MP_AUTHKEY or use --authkey-file",
      );
    }
    const value = eq > 0 && args[i].startsWith("--") ? args[i].slice(eq + 1) : args[++i];
    if (value === undefined) throw new TypeError(`${flag} needs a value`);
    if (flag in COUNTS) {
      (out as unknown as Record<string, number>)[COUNTS[flag as keyof typeof COUNTS]] = count(
        flag,
        value,
      );
    } else if (flag === "--max-attempts") out.maxAttempts = count(flag, value);
    else if (flag === "--servers") out.servers.push(...value.split(",").filter(Boolean));
    else if (flag === "--name") out.name = value;
    else if (flag === "--modules") out.modules.push(...value.split(",").filter(Boolean));
    else if (flag === "--root") out.root = value;
    else if (flag === "--authkey-file") out.authkeyFile = value;
    else if (flag === "--user") out.user = value;
    else if (flag === "--host") out.host = value;
    else if (flag === "--runtime-arg") out.runtimeArgs.push(value);
    else if (flag === "--start-method") {
      if (value !== "subprocess" && value !== "worker") {
        throw new RangeError(`--start-method must be subprocess or worker, received '${value}'`);
      }
      out.startMethod = value;
    } else throw new TypeError(`Unknown option ${flag}`);
  }
  if (out.command !== "help" && (out.servers.length === 0 || !out.name)) {
    throw new TypeError("--servers and --name are required");
  }
  return out;
}
