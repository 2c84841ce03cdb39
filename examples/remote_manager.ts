/**
 * A queue served on TCP by a manager, used by two separate programs that
 * know only its address and key (Python's "using a remote manager"):
 *
 *     deno run -A examples/remote_manager.ts serve        # serves until shut down
 *     deno run -A examples/remote_manager.ts put hello    # another terminal
 *     deno run -A examples/remote_manager.ts get          # and another
 *     deno run -A examples/remote_manager.ts shutdown
 *
 * Every step reads the key from `MP_AUTHKEY` (hex), e.g. made once with
 * `export MP_AUTHKEY=$(openssl rand -hex 32)`. Without arguments, it makes
 * a random key and runs the four steps itself, each as its own `deno run`
 * process. Another machine reaches the server by listening on `0.0.0.0`
 * (see `HOSTNAME`); the key is then the only thing between it and the
 * network (which sees the traffic itself: TCP here is authenticated, not
 * encrypted): keep it long and random, and the network trusted.
 */
import { BaseManager, Queue } from "../mod.ts";

const HOSTNAME = "127.0.0.1";
const PORT = 50_713;

/** The key: `MP_AUTHKEY` as hex (32 random bytes is right; 16 is the least accepted). */
function authkey(): Uint8Array {
  const hex = Deno.env.get("MP_AUTHKEY") ?? "";
  if (!/^([0-9a-f]{2})+$/i.test(hex)) {
    throw new TypeError("Set MP_AUTHKEY to a hex key, e.g. $(openssl rand -hex 32)");
  }
  return new Uint8Array(hex.match(/../g)!.map((h) => parseInt(h, 16)));
}

let queue: Queue<string> | undefined;

/** The registered factory: every client gets the one queue the server holds. */
export function getQueue(): Queue<string> {
  return queue ??= new Queue<string>();
}

class QueueManager extends BaseManager {}
QueueManager.register("getQueue", getQueue);

function manager(): QueueManager {
  return new QueueManager({ address: { hostname: HOSTNAME, port: PORT }, authkey: authkey() });
}

async function step(args: string[]): Promise<void> {
  const [command, text] = args;
  if (command === "serve") {
    await manager().serveForever({
      onListen: (a) => console.log(`serving on ${JSON.stringify(a)}`),
    });
    console.log("shut down");
    return;
  }
  await using m = manager();
  await m.connect();
  if (command === "shutdown") return await m.shutdown();
  const q = await m.create<Queue<string>>("getQueue");
  if (command === "put") {
    await q.put(text ?? "hello");
    await q.joinThread();
    console.log(`put ${JSON.stringify(text ?? "hello")} (pid ${Deno.pid})`);
  } else {
    console.log(`got ${JSON.stringify(await q.get())} (pid ${Deno.pid})`);
  }
}

/** Runs this program with `args` as a separate process, with the key `key` (hex). */
function spawn(args: string[], key: string): Deno.ChildProcess {
  return new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", import.meta.filename!, ...args],
    env: { MP_AUTHKEY: key },
    stdout: "piped",
  }).spawn();
}

/** Reads lines of a process's output. */
function lines(p: Deno.ChildProcess): () => Promise<string | undefined> {
  const reader = p.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  return async () => {
    while (!text.includes("\n")) {
      const { value, done } = await reader.read();
      if (done) break;
      text += value;
    }
    const at = text.indexOf("\n");
    const line = at < 0 ? text : text.slice(0, at);
    text = at < 0 ? "" : text.slice(at + 1);
    return line || undefined;
  };
}

async function demo(): Promise<void> {
  // A fresh random key, shared with the four programs through their environment.
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  const key = [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
  const server = spawn(["serve"], key);
  const serverLine = lines(server);
  console.log(`server: ${await serverLine()}`);
  for (const args of [["put", "hello from one program"], ["get"], ["shutdown"]]) {
    const out = await spawn(args, key).output();
    console.log(`${args[0]}: ${new TextDecoder().decode(out.stdout).trim() || "done"}`);
  }
  console.log(`server: ${await serverLine()}`);
  console.log(`server exited with code ${(await server.status).code}`);
}

if (import.meta.main) {
  if (Deno.args.length > 0) await step(Deno.args);
  else await demo();
}
