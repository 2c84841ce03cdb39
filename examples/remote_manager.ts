/**
 * A queue served on TCP by a manager, used by two separate programs that
 * know only its address and key (Python's "using a remote manager"):
 *
 *     deno run -A examples/remote_manager.ts serve        # serves until shut down
 *     deno run -A examples/remote_manager.ts put hello    # another terminal
 *     deno run -A examples/remote_manager.ts get          # and another
 *     deno run -A examples/remote_manager.ts shutdown
 *
 * Without arguments, it runs the four steps itself, each as its own
 * `deno run` process. Another machine reaches the server by listening on
 * `0.0.0.0` (see `HOSTNAME`); the key is then the only thing between it
 * and the network: use a long random one, and a trusted network.
 */
import { BaseManager, Queue } from "../mod.ts";

const HOSTNAME = "127.0.0.1";
const PORT = 50_713;
const AUTHKEY = "change me: a long random key";

let queue: Queue<string> | undefined;

/** The registered factory: every client gets the one queue the server holds. */
export function getQueue(): Queue<string> {
  return queue ??= new Queue<string>();
}

class QueueManager extends BaseManager {}
QueueManager.register("getQueue", getQueue);

function manager(): QueueManager {
  return new QueueManager({ address: { hostname: HOSTNAME, port: PORT }, authkey: AUTHKEY });
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

/** Runs this program with `args` as a separate process. */
function spawn(args: string[]): Deno.ChildProcess {
  return new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", import.meta.filename!, ...args],
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
  const server = spawn(["serve"]);
  const serverLine = lines(server);
  console.log(`server: ${await serverLine()}`);
  for (const args of [["put", "hello from one program"], ["get"], ["shutdown"]]) {
    const out = await spawn(args).output();
    console.log(`${args[0]}: ${new TextDecoder().decode(out.stdout).trim() || "done"}`);
  }
  console.log(`server: ${await serverLine()}`);
  console.log(`server exited with code ${(await server.status).code}`);
}

if (import.meta.main) {
  if (Deno.args.length > 0) await step(Deno.args);
  else await demo();
}
