// The package's documentation as a user meets it on JSR: every example in
// a JSDoc comment has a title, and imports this package by its name (a
// relative path means nothing to a user's program). `deno test --doc` runs
// them all.
import { assertEquals } from "@std/assert";
import {
  type DocFn,
  type DocParam,
  type DocSymbol,
  docSymbols,
  type DocType,
  type JsDoc,
} from "./_doc.ts";
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

/** A parameter's name, or undefined for a destructured one. */
function paramName(p: DocParam | undefined): string | undefined {
  if (!p) return undefined;
  if (p.kind === "identifier") return p.name;
  if (p.kind === "assign") return paramName(p.left);
  if (p.kind === "rest") return paramName(p.arg);
  return undefined;
}

/** Whether a function returning `t` has nothing to say in `@returns`. */
function returnsNothing(t: DocType | undefined): boolean {
  if (!t || ["void", "never", "undefined"].includes(t.repr ?? "")) return true;
  const inner = t.repr === "Promise" ? t.value?.typeParams?.[0]?.repr : undefined;
  return inner === "void" || inner === "undefined";
}

/**
 * What the JSDoc of the exported symbols lacks: a function, method or
 * constructor without `@param` for a parameter or (returning something)
 * without `@returns`, and a function or class without an `@example`.
 */
export function jsDocFaults(symbols: DocSymbol[]): string[] {
  const faults: string[] = [];
  const seen = new Set<string>();
  const check = (what: string, doc: JsDoc | undefined, fn: DocFn, ctor = false) => {
    const tags = doc?.tags ?? [];
    const documented = new Set(tags.filter((t) => t.kind === "param").map((t) => t.name));
    for (const name of (fn.params ?? []).map(paramName)) {
      if (name && !documented.has(name)) faults.push(`${what}: no @param ${name}`);
    }
    if (!ctor && !returnsNothing(fn.returnType) && !tags.some((t) => t.kind === "return")) {
      faults.push(`${what}: no @returns`);
    }
  };
  for (const symbol of symbols) {
    for (const d of symbol.declarations) {
      const where = `${d.location.filename.replace(ROOT.href, "")}:${d.location.line}`;
      if (seen.has(where) || !d.def) continue;
      seen.add(where);
      const at = `${where} ${symbol.name}`;
      if (d.kind !== "function" && d.kind !== "class") continue;
      if (!d.jsDoc?.tags?.some((t) => t.kind === "example")) faults.push(`${at}: no @example`);
      if (d.kind === "function") check(at, d.jsDoc, d.def);
      for (const c of d.def.constructors ?? []) check(`${at} constructor`, c.jsDoc, c, true);
      for (const m of d.def.methods ?? []) {
        if (m.kind === "method" && !m.name.startsWith("[")) {
          check(`${at}.${m.name}`, m.jsDoc, m.functionDef);
        }
      }
    }
  }
  return faults;
}

Deno.test("docs: every exported function, method and constructor documents its parameters and result; every function and class has an example", async () => {
  const symbols = await docSymbols(["mod.ts", "targets.ts", "cluster.ts", "cluster/worker.ts"]);
  const faults = jsDocFaults(symbols);
  assertEquals([...new Set(faults)], []);
});

Deno.test("docs: the JSDoc check finds a missing @param, @returns and @example", () => {
  const fn = {
    params: [{ kind: "identifier", name: "x" }, {
      kind: "assign",
      left: { kind: "identifier", name: "y" },
    }],
    returnType: { repr: "Promise", value: { typeParams: [{ repr: "number" }] } },
  };
  const symbols: DocSymbol[] = [{
    name: "f",
    declarations: [{
      kind: "function",
      location: { filename: `${ROOT.href}a.ts`, line: 3 },
      jsDoc: { tags: [{ kind: "param", name: "x" }] },
      def: fn,
    }],
  }, {
    name: "g",
    declarations: [{
      kind: "function",
      location: { filename: `${ROOT.href}a.ts`, line: 9 },
      jsDoc: { tags: [{ kind: "example" }] },
      def: {
        params: [],
        returnType: { repr: "Promise", value: { typeParams: [{ repr: "void" }] } },
      },
    }],
  }];
  assertEquals(jsDocFaults(symbols), [
    "a.ts:3 f: no @example",
    "a.ts:3 f: no @param y",
    "a.ts:3 f: no @returns",
  ]);
});
