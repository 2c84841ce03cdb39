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

/** The line and title of each `@example` tag in `text`. */
export function exampleTags(text: string): { line: number; title: string }[] {
  return text.split("\n").flatMap((l, i) => {
    const m = /^\s*\*\s*@example(.*)$/.exec(l);
    return m ? [{ line: i + 1, title: m[1].trim() }] : [];
  });
}

/**
 * The code blocks of `text`'s doc comments (each one `deno test --doc`
 * runs, under an `@example` tag or not): the line of its opening fence and
 * its code.
 */
export function codeBlocks(text: string): { line: number; code: string }[] {
  const lines = text.split("\n");
  const out = [];
  for (let i = 0; i < lines.length; i++) {
    if (!/^\s*\*\s*```/.test(lines[i])) continue;
    const code: string[] = [];
    let j = i + 1;
    while (j < lines.length && !/^\s*\*\s*```/.test(lines[j]) && !lines[j].includes("*/")) {
      code.push(lines[j].replace(/^\s*\*\s?/, ""));
      j++;
    }
    out.push({ line: i + 1, code: code.join("\n") });
    i = j;
  }
  return out;
}

/**
 * What is wrong with the documentation of the module at `rel` (relative to
 * the root): an untitled example, a code block importing a file of this
 * package by path, and one using a module of its tests.
 */
export function exampleFaults(rel: string, text: string): string[] {
  const faults = exampleTags(text).filter((t) => !t.title).map((t) => `${rel}:${t.line}: no title`);
  for (const block of codeBlocks(text)) {
    const at = `${rel}:${block.line}`;
    // The test suite is not published: a user has no such module.
    if (/\btests\//.test(block.code)) faults.push(`${at}: uses a module of the package's tests`);
    for (const m of block.code.matchAll(/from\s+"(\.[^"]*)"/g)) {
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
  return faults.sort((a, b) => parseInt(a.split(":")[1]) - parseInt(b.split(":")[1]));
}

Deno.test("docs: every example is titled, imports the package by its name and no module of its tests", () => {
  const faults = modules().flatMap((rel) =>
    exampleFaults(rel, Deno.readTextFileSync(new URL(rel, ROOT)))
  );
  assertEquals(faults, []);
});

Deno.test("docs: the check finds an untitled example, a relative import of the package and a test fixture", () => {
  const text = [
    "/**",
    " * @example",
    " * ```ts",
    ' * import { Pool } from "./pool.ts";',
    ' * import { work } from "./tasks.ts";',
    " * ```",
    " *",
    " * @example A fixture",
    " * ```ts",
    ' * const module = new URL("./tests/fixtures/targets.ts", import.meta.url).href;',
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
    'mod.ts:3: imports "./pool.ts", not by the package\'s name',
    "mod.ts:9: uses a module of the package's tests",
  ]);
});
