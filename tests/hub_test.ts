// The hub's socket: authkey challenge both ways, and misbehaving peers that
// lose their own connection only, on both transports.
import { assertEquals, assertRejects } from "@std/assert";
import { acquireHub } from "../_internal/hub/hub.ts";
import { state } from "../_internal/base/state.ts";
import type { Address } from "../_internal/transport/address.ts";
import { connectAuthed, connectTo, listen } from "../_internal/transport/sockets.ts";
import { AuthenticationError, Process } from "../mod.ts";
import { noop } from "./fixtures/targets.ts";
import { TARGETS as module } from "./_helpers.ts";

for (const transport of ["unix", "tcp"] as const) {
  Deno.test(`hub rejects a wrong authkey with AuthenticationError [${transport}]`, async () => {
    const s = state();
    const before = s.transport;
    s.transport = transport;
    const hub = await acquireHub();
    try {
      const wrong = crypto.getRandomValues(new Uint8Array(32));
      await assertRejects(
        () => connectAuthed(hub.address, wrong),
        AuthenticationError,
      );
      const right = await connectAuthed(hub.address, s.authkey);
      right.conn.close();
    } finally {
      hub.release();
      s.transport = before;
    }
  });

  Deno.test(`hub closes a connection that sends garbage, and serves the next [${transport}]`, async () => {
    const s = state();
    const before = s.transport;
    s.transport = transport;
    const hub = await acquireHub();
    try {
      for (
        const garbage of [[0xff, 0xff, 0xff, 0xff, 1, 2], [0, 0, 0, 3, 1, 2, 3]]
      ) {
        const conn = await connectTo(hub.address);
        await conn.write(new Uint8Array(garbage));
        // The hub sends its challenge, then hangs up on the garbage answer.
        const buf = new Uint8Array(256);
        while ((await conn.read(buf)) !== null) { /* drain until closed */ }
        conn.close();
      }
      const ok = await connectAuthed(hub.address, s.authkey);
      ok.conn.close();
    } finally {
      hub.release();
      s.transport = before;
    }
  });

  Deno.test(`a child starts over the ${transport} transport`, async () => {
    const s = state();
    const before = s.transport;
    s.transport = transport;
    try {
      await using p = new Process({ target: noop, module });
      await p.start();
      await p.join();
      assertEquals(p.exitCode, 0);
    } finally {
      s.transport = before;
    }
  });
}

Deno.test("a unix listener lives in a private directory and is removed on close", async () => {
  const bound = await listen("unix");
  const path = (bound.address as Extract<Address, { transport: "unix" }>).path;
  const dir = path.slice(0, path.lastIndexOf("/"));
  assertEquals((await Deno.stat(dir)).mode! & 0o777, 0o700);
  assertEquals((await Deno.stat(path)).mode! & 0o777, 0o600);
  bound.close();
  await assertRejects(() => Deno.stat(dir), Deno.errors.NotFound);
});
