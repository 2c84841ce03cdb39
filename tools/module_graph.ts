/**
 * The package's module graph as `deno info --json` reports it: read by the
 * layering tests (`tests/layering_test.ts`) and by `tools/preload.ts`.
 *
 * @module
 */

/** The repository's root. */
export const ROOT: URL = new URL("../", import.meta.url);

/**
 * A module graph: each local module (a path from the root) and the local
 * modules it imports, in the order its source first names them.
 */
export type Graph = Map<string, Set<string>>;

/**
 * Which imports a graph follows: `"all"` of them; `"loaded"`, those that
 * load a module with its importer (neither type-only nor dynamic);
 * `"read"`, those `deno run` reads before it runs the entry (its static
 * and statically analysable dynamic imports, not type-only ones).
 */
export type Edges = "all" | "loaded" | "read";

interface InfoJson {
  modules: {
    specifier: string;
    dependencies?: {
      code?: { specifier?: string };
      type?: { specifier?: string };
      isDynamic?: boolean;
    }[];
  }[];
}

/** A specifier as a path from the root; undefined for one outside it. */
function local(specifier: string): string | undefined {
  return specifier.startsWith(ROOT.href) ? specifier.slice(ROOT.href.length) : undefined;
}

/**
 * The graph `deno info --json` reports for the given entry points, by `edges`.
 *
 * @param entries Paths from the root.
 * @param edges Which imports to follow.
 * @returns Every local module reached, with the local modules it imports.
 * @throws {Error} When `deno info` fails.
 */
export async function graphOf(entries: string[], edges: Edges = "all"): Promise<Graph> {
  const graph: Graph = new Map();
  for (const entry of entries) {
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["info", "--json", "--no-config", new URL(entry, ROOT).href],
      stdout: "piped",
      stderr: "piped",
    }).output();
    if (!out.success) {
      throw new Error(`deno info ${entry} failed:\n${new TextDecoder().decode(out.stderr)}`);
    }
    const info = JSON.parse(new TextDecoder().decode(out.stdout)) as InfoJson;
    for (const m of info.modules) {
      const from = local(m.specifier);
      if (!from) continue;
      const deps = graph.get(from) ?? new Set<string>();
      graph.set(from, deps);
      for (const d of m.dependencies ?? []) {
        if (edges === "loaded" && d.isDynamic) continue;
        const code = edges === "all" ? [d.code?.specifier, d.type?.specifier] : [d.code?.specifier];
        for (const s of code) {
          const to = s && local(s);
          if (to) deps.add(to);
        }
      }
    }
  }
  return graph;
}
