// Every TypeScript snippet of the README runs, so that the README cannot
// drift: each is written into the repository (where the bare
// `@mp/multiprocessing` resolves to the repository's own mod.ts, as it does
// for a user through `deno add`), run as a program, and must exit 0 and
// print what its `console.log(…); // value` comments say. Shell lines are
// not run. A snippet that uses the cluster runs against a nats-server and a
// worker agent of its own (the cluster tests' helpers).
import { assert, assertEquals } from "@std/assert";
import { Cluster } from "../cluster.ts";
import { newKey, startNats } from "./_nats.ts";
import { FIXTURES, ROOT } from "./_cluster.ts";
import { denoRun } from "./_helpers.ts";

interface Snippet {
  /** Its line in README.md. */
  line: number;
  code: string;
}

async function snippets(): Promise<Snippet[]> {
  const text = await Deno.readTextFile(new URL("../README.md", import.meta.url));
  const out: Snippet[] = [];
  const re = /^```ts\n([\s\S]*?)^```$/gm;
  for (const m of text.matchAll(re)) {
    out.push({ line: text.slice(0, m.index).split("\n").length, code: m[1] });
  }
  return out;
}

/** What the snippet says it prints: the comment after each `console.log(…);`, in order. */
function expectedLines(code: string): string[] {
  return [...code.matchAll(/console\.log\(.*\);? \/\/ (.+)$/gm)].map((m) => m[1].trim());
}

/** Runs one snippet from a scratch folder under tests/fixtures/; what it printed. */
async function run(snippet: Snippet, env: Record<string, string> = {}): Promise<string> {
  const dir = await Deno.makeTempDir({
    dir: new URL("./fixtures/", import.meta.url).pathname,
    prefix: ".readme-",
  });
  try {
    const main = `${dir}/main.ts`;
    await Deno.writeTextFile(main, snippet.code);
    if (snippet.code.includes("./tasks/score.ts")) {
      await Deno.mkdir(`${dir}/tasks`);
      await Deno.writeTextFile(
        `${dir}/tasks/score.ts`,
        "export function score(x: number): number {\n  return x * 10;\n}\n",
      );
    }
    const { code, stdout, stderr } = await denoRun([main], { env });
    assertEquals(code, 0, `README.md line ${snippet.line} failed:\n${stderr}`);
    return stdout;
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

function checkOutput(snippet: Snippet, stdout: string): void {
  const printed = stdout.split("\n").map((l) => l.trim());
  let at = 0;
  for (const want of expectedLines(snippet.code)) {
    const found = printed.indexOf(want, at);
    assert(found >= 0, `README.md line ${snippet.line}: expected "${want}" in:\n${stdout}`);
    at = found + 1;
  }
}

const all = await snippets();
const CLUSTER = "@mp/multiprocessing/cluster";

Deno.test("README: its TypeScript snippets import the bare @mp/multiprocessing, no jsr: URL", () => {
  assert(all.length >= 6, `${all.length} snippets`);
  for (const s of all) {
    assertEquals(s.code.includes('"jsr:'), false, `README.md line ${s.line}`);
    assert(s.code.includes('from "@mp/multiprocessing'), `README.md line ${s.line}`);
  }
});

for (const snippet of all.filter((s) => !s.code.includes(CLUSTER))) {
  Deno.test(`README: the snippet at line ${snippet.line} runs and prints what it says`, async () => {
    checkOutput(snippet, await run(snippet));
  });
}

for (const snippet of all.filter((s) => s.code.includes(CLUSTER))) {
  Deno.test(`README: the cluster snippet at line ${snippet.line} runs against a cluster`, async () => {
    await using nats = await startNats();
    const authkey = newKey();
    await using cluster = await Cluster.connect({
      servers: nats.url,
      name: "jobs",
      authkey,
      root: ROOT,
    });
    await cluster.serve({ processes: 1, startMethod: "worker", modules: [FIXTURES] });
    const stdout = await run(snippet, { NATS_URL: nats.url, MP_AUTHKEY: authkey });
    assertEquals(stdout.trim().split("\n").at(-1), "[ 10, 20, 30 ]");
  });
}
