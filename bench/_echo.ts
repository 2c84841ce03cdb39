// The bare Unix-socket echo between two Deno processes: the floor under any
// one-at-a-time call (bench/socket_echo.ts, and the manager's sequential
// dict calls beside it in bench/manager_throughput.ts).

/** The echoing child: echoes what it reads until the connection closes. */
export async function serveEcho(path: string): Promise<void> {
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

/** A connection to an echoing child, started by {@link startEcho}. */
export interface Echo {
  /** Sends 20 bytes and waits for them back, `n` times; resolves the ms taken. */
  trips(n: number): Promise<number>;
  /** Hangs up and waits for the child's exit. */
  close(): Promise<void>;
}

/** Starts an echoing child (this module, run with `--serve PATH`) and connects to it. */
export async function startEcho(): Promise<Echo> {
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
  return {
    async trips(n) {
      const t0 = performance.now();
      for (let i = 0; i < n; i++) {
        await conn.write(msg);
        // Short reads: a 20-byte echo may come back in parts.
        for (let got = 0; got < msg.length;) got += (await conn.read(buf)) ?? msg.length;
      }
      return performance.now() - t0;
    },
    async close() {
      conn.close();
      await child.stdout.cancel();
      await child.status;
      await Deno.remove(dir, { recursive: true });
    },
  };
}

if (import.meta.main && Deno.args[0] === "--serve") await serveEcho(Deno.args[1]);
