// Every example of the cluster's doc comments (cluster.ts, cluster/*.ts,
// _internal/cluster/*.ts) compiles and runs as a user would write it, so
// that they cannot drift:
// each is read from `deno doc --json`, written with the user's `./tasks.ts`
// into a scratch folder under tests/fixtures/ (where `@mp/multiprocessing/…`
// resolves through the repository's deno.json), type-checked, and run
// against a nats-server of its own (NATS_URL, MP_AUTHKEY in its env): it
// must exit 0 and print what its `console.log(…); // value` comments say.
// An example that is an agent runs until it has served a task of this
// test's, then is stopped with SIGTERM and must exit 0.
// Their fences stay `ts ignore`: `deno test --doc` has no nats-server and no ./tasks.ts.
import { assert, assertEquals, assertMatch } from "@std/assert";
import { FIXTURES, setup, within } from "./_cluster.ts";
import { docNodes } from "./_doc.ts";

/** The user's task module the examples import, as `./tasks.ts`. */
const TASKS = "export function square(x: number): number {\n  return x * x;\n}\n\n" +
  "export function crash(): never {\n  Deno.exit(1);\n}\n";

/**
 * How an example runs: alone (it needs only a server, or serves itself),
 * against an agent this test serves, or as an agent (until stopped).
 */
type How = "alone" | "agent" | "serves";

/**
 * Every `ts ignore` example of the cluster modules, as `file: title`, with
 * how it runs and, where its printed lines carry no value comment (a host,
 * a pid, JSON), what its output must match besides.
 */
const EXAMPLES: Record<string, { how: How; output?: RegExp }> = {
  "cluster.ts: A map on the cluster's agents": { how: "agent" },
  "cluster.ts: Connect, map, read the figures": { how: "alone" },
  "cluster/agent.ts: Serve until stopped": { how: "serves" },
  "cluster/async_result.ts: Where a task ran": { how: "agent", output: /^1 completed \S+ \d+$/m },
  "cluster/joinable_queue.ts: Take a job, finish it": { how: "alone" },
  "cluster/pool.ts: A map across hosts": { how: "agent" },
  "cluster/queue.ts: Producer and consumer on two hosts": { how: "alone" },
  "cluster/worker.ts: Start an agent from a program": { how: "serves" },
  "_internal/cluster/protocol.ts: Tell a task that kept killing its worker": { how: "agent" },
  "cluster/worker.ts: Print a cluster's figures as JSON": {
    how: "alone",
    output: /"agents": \[\]/,
  },
};

/** How long a program (a check, a run, an agent's start) may take before it fails the test. */
const LIMIT_MS = 120_000;

const ROOT_URL = new URL("../", import.meta.url).href;
const FENCE = "```ts ignore";

/**
 * The cluster modules, relative to the root: its public ones, and the
 * private ones whose symbols they export with their docs.
 */
function clusterModules(): string[] {
  const inDir = (dir: string) =>
    [...Deno.readDirSync(new URL(dir, ROOT_URL))]
      .filter((e) => e.isFile && e.name.endsWith(".ts"))
      .map((e) => `${dir}${e.name}`)
      .sort();
  return ["cluster.ts", ...inDir("cluster/"), ...inDir("_internal/cluster/")];
}

/** `file: title` → code of each `ts ignore` example in the doc comments `deno doc` lists. */
async function examples(files: string[]): Promise<Map<string, string>> {
  const nodes = await docNodes(files);
  const found = new Map<string, string>();
  // Every example tag anywhere in the tree (module docs, symbols, members),
  // in the file of the nearest enclosing declaration.
  const visit = (node: unknown, file: string): void => {
    if (Array.isArray(node)) return node.forEach((n) => visit(n, file));
    if (typeof node !== "object" || node === null) return;
    const o = node as Record<string, unknown>;
    const here = (o.location as { filename?: string } | undefined)?.filename ?? file;
    if (o.kind === "example" && typeof o.doc === "string") {
      const m = /^(.*)\n```ts ignore\n([\s\S]*?)^```/m.exec(o.doc);
      const rel = here.startsWith(ROOT_URL) ? here.slice(ROOT_URL.length) : here;
      if (m && files.includes(rel)) {
        const key = `${rel}: ${m[1].trim()}`;
        assert(!found.has(key) || found.get(key) === m[2], `two examples are titled ${key}`);
        found.set(key, m[2]);
      }
    }
    for (const v of Object.values(o)) visit(v, here);
  };
  for (const [file, node] of Object.entries(nodes)) visit(node, file);
  return found;
}

/** What the example says it prints: the comment after each `console.log(…);`, in order. */
function expectedLines(code: string): string[] {
  return [...code.matchAll(/console\.log\(.*\);? \/\/ (.+)$/gm)].map((m) => m[1].trim());
}

function checkOutput(key: string, code: string, stdout: string): void {
  const printed = stdout.split("\n").map((l) => l.trim());
  let at = 0;
  for (const want of expectedLines(code)) {
    const found = printed.indexOf(want, at);
    assert(found >= 0, `${key}: expected "${want}" in:\n${stdout}`);
    at = found + 1;
  }
  const more = EXAMPLES[key].output;
  if (more) assertMatch(stdout, more, `${key}: printed`);
}

// Offline, the suite runs under --import-map=.ci/std/import_map.json: the
// programs it starts need it too (for the package's own name the repository's
// deno.json is found either way).
const importMap = import.meta.resolve("@std/assert").includes("/.ci/std/")
  ? [`--import-map=${new URL("../.ci/std/import_map.json", import.meta.url).pathname}`]
  : [];

/** A `deno` subcommand started by the test, its output collected; SIGKILLed on dispose if still running. */
interface Program extends AsyncDisposable {
  /** Its first line of stdout (all it printed, if it ended without one). */
  firstLine: Promise<string>;
  /** Once it has exited: its exit code and everything it printed. */
  done: Promise<{ code: number; stdout: string; stderr: string }>;
  kill(signal: Deno.Signal): void;
}

function start(args: string[], env: Record<string, string> = {}): Program {
  const child = new Deno.Command(Deno.execPath(), {
    // A program runs with every permission, as the examples' users run them.
    args: [args[0], ...(args[0] === "run" ? ["-A"] : []), ...importMap, ...args.slice(1)],
    env,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let exited = false;
  const status = child.status.then((s) => {
    exited = true;
    return s;
  });
  const first = Promise.withResolvers<string>();
  let stdout = "";
  const readOut = (async () => {
    for await (const chunk of child.stdout.pipeThrough(new TextDecoderStream())) {
      stdout += chunk;
      if (stdout.includes("\n")) first.resolve(stdout.slice(0, stdout.indexOf("\n")));
    }
    first.resolve(stdout);
  })();
  const stderr = new Response(child.stderr).text();
  const done = (async () => {
    const [s] = await Promise.all([status, readOut]);
    return { code: s.code, stdout, stderr: await stderr };
  })();
  const kill = (signal: Deno.Signal) => {
    if (exited) return;
    try {
      child.kill(signal);
    } catch {
      // Exited meanwhile.
    }
  };
  return {
    firstLine: first.promise,
    done,
    kill,
    async [Symbol.asyncDispose]() {
      kill("SIGKILL");
      await done;
    },
  };
}

/** Runs `deno <args>` to its end (killed after LIMIT_MS); its exit code must be 0. */
async function runToEnd(what: string, args: string[], env?: Record<string, string>) {
  await using program = start(args, env);
  const out = await within(LIMIT_MS, what, () => program.done);
  assertEquals(out.code, 0, `${what} failed:\n${out.stdout}\n${out.stderr}`);
  return out;
}

/** A scratch folder under tests/fixtures/ holding the example as main.ts, and tasks.ts; removed on dispose. */
async function scratch(code: string): Promise<{ dir: string } & AsyncDisposable> {
  const dir = await Deno.makeTempDir({ dir: new URL(FIXTURES).pathname, prefix: ".cluster-docs-" });
  try {
    await Deno.writeTextFile(`${dir}/main.ts`, code);
    await Deno.writeTextFile(`${dir}/tasks.ts`, TASKS);
  } catch (err) {
    await Deno.remove(dir, { recursive: true });
    throw err;
  }
  return { dir, [Symbol.asyncDispose]: () => Deno.remove(dir, { recursive: true }) };
}

const FILES = clusterModules();
const found = await examples(FILES);

Deno.test("cluster docs: every `ts ignore` example of the cluster modules is found, and known", () => {
  // Counted in the source too: an example `deno doc` did not list would escape.
  const fences = FILES.map((f) => Deno.readTextFileSync(new URL(f, ROOT_URL)))
    .flatMap((text) => text.split("\n").filter((l) => l.trim() === `* ${FENCE}`));
  assertEquals(fences.length, Object.keys(EXAMPLES).length);
  assertEquals([...found.keys()].sort(), Object.keys(EXAMPLES).sort());
});

Deno.test("cluster docs: each example imports the package by name, its only own module is ./tasks.ts, and takes its server from NATS_URL", () => {
  for (const [key, code] of found) {
    assert(code.includes('from "@mp/multiprocessing/cluster'), key);
    for (const m of code.matchAll(/from\s+"([^"]*)"/g)) {
      assert(
        m[1].startsWith("@mp/multiprocessing/cluster") || m[1] === "./tasks.ts",
        `${key}: ${m[1]}`,
      );
    }
    assert(code.includes('Deno.env.get("NATS_URL")'), `${key}: a hard-coded server`);
  }
});

for (const [key, { how }] of Object.entries(EXAMPLES)) {
  Deno.test(`cluster docs: ${key} compiles and runs`, async () => {
    const code = found.get(key);
    assert(code !== undefined, `${key}: no such example`);
    await using files = await scratch(code);
    const main = `${files.dir}/main.ts`;
    await runToEnd(`deno check of ${key}`, ["check", "-q", main]);
    // Its cluster: the name the examples use, on a server of its own.
    await using env = await setup({
      connect: { name: "jobs" },
      agent: how === "agent" ? { processes: 1, startMethod: "worker", modules: [FIXTURES] } : false,
    });
    const vars = { NATS_URL: env.nats.url, MP_AUTHKEY: env.authkey };
    if (how !== "serves") {
      const { stdout } = await runToEnd(key, ["run", main], vars);
      checkOutput(key, code, stdout);
      return;
    }
    await using agent = start(["run", main], vars);
    const line = await within(LIMIT_MS, `${key}: its first line`, () => agent.firstLine);
    const id = /^agent (\S+) serving/.exec(line)?.[1];
    if (!id) {
      agent.kill("SIGKILL");
      const { stderr } = await agent.done;
      throw new Error(`${key} printed "${line}", not "agent <id> serving…":\n${stderr}`);
    }
    const { square } = await import(`file://${files.dir}/tasks.ts`);
    await using pool = env.cluster.pool({ module: `file://${files.dir}/tasks.ts` });
    const result = pool.applyAsync(square, [7]);
    assertEquals(await within(LIMIT_MS, `${key}: a task`, async () => await result), 49);
    assertEquals(result.attempts.map((a) => a.agent), [id], "served by the example's agent");
    agent.kill("SIGTERM");
    const out = await within(LIMIT_MS, `${key}: its exit after SIGTERM`, () => agent.done);
    assertEquals(out.code, 0, `${key} failed:\n${out.stdout}\n${out.stderr}`);
    checkOutput(key, code, out.stdout);
  });
}
