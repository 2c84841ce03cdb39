// The package's documentation as a user meets it on JSR: every example in
// a JSDoc comment has a title, and imports this package by its name (a
// relative path means nothing to a user's program). `deno test --doc` runs
// them all.
import { assertEquals } from "@std/assert";
const ROOT = new URL("../", import.meta.url);
const NOT_PACKAGE = new Set(["tests", "bench", "examples", "tools", "docs", ".ci", ".device"]);

/** The package's TypeScript modules, as paths relative to the root. */
function modules(dir = ""): string[] {
  const out: string[] = [];
  for (const e of Deno.readDirSync(new URL(dir || ".", ROOT))) {
    const rel = dir ? `${dir}/${e.name}` : e.name;
    if (e.isDirectory && !NOT_PACKAGE.has(e.name) && !e.name.startsWith(".")) {
      out.push(...modules(rel));
    } else if (e.isFile && e.name.endsWith(".ts")) out.push(rel);
  }
  return out.sort();
}

/** Each `@example` of `text`: its line, its title, and its code. */
export function examples(text: string): { line: number; title: string; code: string }[] {
  const lines = text.split("\n");
  const out = [];
  for (let i = 0; i < lines.length; i++) {
    const m = /^\s*\*\s*@example(.*)$/.exec(lines[i]);
    if (!m) continue;
    const code: string[] = [];
    let j = i + 1;
    while (j < lines.length && !/^\s*\*\s*(@\w|\/)/.test(lines[j]) && !lines[j].includes("*/")) {
      code.push(lines[j].replace(/^\s*\*\s?/, ""));
      j++;
    }
    out.push({ line: i + 1, title: m[1].trim(), code: code.join("\n") });
  }
  return out;
}

/**
 * What is wrong with the examples of the module at `rel` (relative to the
 * root): an untitled one, or one importing a file of this package by path.
 */
export function exampleFaults(rel: string, text: string): string[] {
  const faults: string[] = [];
  for (const ex of examples(text)) {
    const at = `${rel}:${ex.line}`;
    if (!ex.title) faults.push(`${at}: no title`);
    for (const m of ex.code.matchAll(/from\s+"(\.[^"]*)"/g)) {
      // A path to a file of this package: a user imports it by name.
      // (A path to none is the user's own module, e.g. "./tasks.ts".)
      const target = new URL(m[1], new URL(rel, ROOT));
      let exists = false;
      try {
        exists = Deno.statSync(target).isFile;
      } catch { /* not ours */ }
      if (exists) faults.push(`${at}: imports "${m[1]}", not by the package's name`);
    }
  }
  return faults;
}

Deno.test("docs: every example is titled and imports the package by its name", () => {
  const faults = modules().flatMap((rel) =>
    exampleFaults(rel, Deno.readTextFileSync(new URL(rel, ROOT)))
  );
  assertEquals(faults, []);
});

Deno.test("docs: the check finds an untitled example and a relative import of the package", () => {
  const text = [
    "/**",
    " * @example",
    " * ```ts",
    ' * import { Pool } from "./pool.ts";',
    ' * import { work } from "./tasks.ts";',
    " * ```",
    " *",
    " * @example Titled, by name",
    " * ```ts",
    ' * import { Pool } from "@mp/multiprocessing/pool";',
    " * ```",
    " */",
  ].join("\n");
  assertEquals(exampleFaults("mod.ts", text), [
    "mod.ts:2: no title",
    'mod.ts:2: imports "./pool.ts", not by the package\'s name',
  ]);
});
