/**
 * Addresses: where a listener can be reached, written as a string for a
 * command line or a message, and the normalisation of the address and
 * authkey options users give (a `Listener`, a manager).
 *
 * @module
 */
/** Where a listener can be reached. */
export type Address =
  | { transport: "unix"; path: string }
  | { transport: "tcp"; hostname: string; port: number };

/** Encodes an address for a command line or a message. */
export function addressToString(a: Address): string {
  return a.transport === "unix" ? `unix:${a.path}` : `tcp:${a.hostname}:${a.port}`;
}

/** Parses {@link addressToString}'s output. */
export function parseAddress(s: string): Address {
  if (s.startsWith("unix:")) return { transport: "unix", path: s.slice(5) };
  const m = /^tcp:(.+):(\d+)$/.exec(s);
  if (!m) {
    throw new TypeError(
      `Cannot parse address: expected unix:PATH or tcp:HOST:PORT, received '${s}'`,
    );
  }
  return { transport: "tcp", hostname: m[1], port: Number(m[2]) };
}

/**
 * An address as users write it: a Unix socket `path`, or a TCP `port` with
 * an optional `hostname` (loopback by default).
 */
export type UserAddress =
  | { transport?: "unix"; path: string }
  | { transport?: "tcp"; hostname?: string; port: number };

/**
 * Turns an address a user gave into an {@link Address}.
 *
 * @throws {RangeError} When a TCP port is not an integer from 0 to 65535.
 */
export function toAddress(a: UserAddress, what: string): Address {
  if ("path" in a) return { transport: "unix", path: a.path };
  if (!Number.isInteger(a.port) || a.port < 0 || a.port > 65535) {
    throw new RangeError(
      `Cannot ${what}: 'port' must be an integer from 0 to 65535, received ${a.port}`,
    );
  }
  return { transport: "tcp", hostname: a.hostname ?? "127.0.0.1", port: a.port };
}

/** An {@link Address} as users write it (see {@link UserAddress}). */
export function fromAddress(a: Address): { path: string } | { hostname: string; port: number } {
  return a.transport === "unix" ? { path: a.path } : { hostname: a.hostname, port: a.port };
}

/** An authkey a user gave: bytes, or a string taken as UTF-8. */
export function toAuthkey(key: Uint8Array | string): Uint8Array {
  return typeof key === "string" ? new TextEncoder().encode(key) : key;
}
