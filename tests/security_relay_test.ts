// Issue #13, finding 4: a descriptor planted by another client of a shared
// manager makes a victim dial the attacker's relay; the relay passes the
// victim's hub's challenge and the victim's answer, and then reads the
// victim's queue. Whole programs: tests/fixtures/attack_relay_*.ts.
import { assertEquals, assertRejects } from "@std/assert";
import { fixturePath } from "./_helpers.ts";
import { AuthenticationError } from "../mod.ts";
import { connectAuthed } from "../_internal/transport/sockets.ts";
import { frameOf, FrameReader, FrameWriter } from "../_internal/wire/framing.ts";

const IMPORT_MAP = new URL("../.ci/std/import_map.json", import.meta.url).pathname;

function start(name: string, args: string[] = []): {
  child: Deno.ChildProcess;
  lines: ReadableStreamDefaultReader<string>;
  stdin: WritableStreamDefaultWriter<Uint8Array>;
} {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", `--import-map=${IMPORT_MAP}`, fixturePath(name), ...args],
    stdin: "piped",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const lines = child.stdout.pipeThrough(new TextDecoderStream()).pipeThrough(
    new TransformStream<string, string>({
      transform(chunk, c) {
        for (const l of chunk.split("\n")) if (l) c.enqueue(l);
      },
    }),
  ).getReader();
  return { child, lines, stdin: child.stdin.getWriter() };
}

async function line(r: ReadableStreamDefaultReader<string>): Promise<string> {
  const { value } = await r.read();
  return value ?? "";
}

Deno.test("Security: a relay planted in a manager's dict learns nothing of the victim's hub", async () => {
  const victim = start("attack_relay_victim.ts");
  const info = JSON.parse(await line(victim.lines));
  const attacker = start("attack_relay_attacker.ts", [String(info.port), info.key, info.dict]);
  assertEquals(await line(attacker.lines), "planted");
  await victim.stdin.write(new TextEncoder().encode("go\n"));
  const used = [await line(victim.lines), await line(victim.lines), await line(victim.lines)];
  await victim.stdin.close();
  await attacker.stdin.close();
  const stolen = await line(attacker.lines);
  await victim.lines.cancel();
  await attacker.lines.cancel();
  await victim.child.status;
  await attacker.child.status;
  // The planted values reached no hub: the inline one is plain data, the
  // handle's dial was refused, and the secret is still in its queue.
  assertEquals(used, [
    "planted: plain data",
    "planted2: failed: ProcessError/AuthenticationError",
    "secret still there: 1",
  ]);
  assertEquals(stolen, "got: nothing");
});

Deno.test("Security: a client gives no answer to a server that has not proven the key", async () => {
  // A server that does not hold the key: it sends a challenge with a made-up proof.
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const serving = (async () => {
    const conn = await listener.accept();
    const reader = new FrameReader(conn);
    const writer = new FrameWriter(conn);
    const hello = await reader.next(256, 256);
    const challenge = new Uint8Array(16 + 64);
    challenge.set(new TextEncoder().encode("#MP-CHALLENGE-2#"));
    crypto.getRandomValues(challenge.subarray(16));
    await writer.write(frameOf(challenge));
    // What the client sends next: nothing, it hangs up.
    const next = await reader.next(256, 256).catch(() => null);
    conn.close();
    return { hello: hello !== null, next };
  })();
  const address = { transport: "tcp" as const, hostname: "127.0.0.1", port: listener.addr.port };
  await assertRejects(
    () => connectAuthed(address, crypto.getRandomValues(new Uint8Array(32))),
    AuthenticationError,
    "Digest received was wrong",
  );
  assertEquals(await serving, { hello: true, next: null });
  listener.close();
});
