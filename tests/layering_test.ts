// The layering of DESIGN.md §2, enforced: every module reachable from a
// public entry point (deno.json's exports) sits in a layer of the rank
// table below, imports only layers ranked below its own (type-only imports
// included), never imports across two layers of equal rank, and no import
// cycle exists. `_internal/` never imports a module outside `_internal/`.
// Modelled on denoland/std's circular-dependency check.
import { assert, assertEquals, assertThrows } from "@std/assert";
import { BUNDLE, digest, ENTRY, staleness, withHeader } from "../tools/child_bundle.ts";
import { CHILD_ENTRY_URL } from "../_internal/process/child.ts";
import { evaluationOrder, loadOrder, MOD, PRELOAD, render } from "../tools/preload.ts";
import { type Graph, graphOf, ROOT } from "../tools/module_graph.ts";

/**
 * Layers, lowest first. A top-level module and its public sub-folder
 * (`synchronize.ts` and `synchronize/`) are one layer; a module above its
 * private `_internal/` folder ranks above it.
 */
export const RANKS: Record<string, number> = {
  "_internal/base": 0,
  "_internal/wire": 1,
  "_internal/transport": 2,
  "_internal/hub": 3,
  "_internal/primitives": 4,
  "connection": 5,
  "queue": 5,
  "targets": 5,
  "synchronize": 5,
  "shared": 6,
  "_internal/process": 7,
  "process": 8,
  "_internal/pool": 9,
  "_internal/manager": 9,
  "pool": 10,
  "manager": 10,
  "context": 11,
  "_internal/cluster": 12,
  "cluster": 13,
  "entry": 14,
  "mod": 15,
};

/** The layer of a module path relative to the repository root. */
export function layerOf(path: string): string {
  const parts = path.split("/");
  if (parts[0] === "_internal") return `_internal/${parts[1]}`;
  const top = parts[0].replace(/\.ts$/, "");
  if (parts.length === 1 && top.startsWith("_")) return "entry";
  return top;
}

/** Every edge that breaks the layering, as readable lines. */
export function violations(graph: Graph): string[] {
  const out: string[] = [];
  for (const [from, deps] of graph) {
    const lf = layerOf(from);
    if (!(lf in RANKS)) out.push(`${from}: layer '${lf}' is not in the rank table`);
    for (const to of deps) {
      const lt = layerOf(to);
      if (from.startsWith("_internal/") && !to.startsWith("_internal/")) {
        out.push(`${from} -> ${to}: _internal/ imports a module outside it`);
      } else if (lf !== lt && !(RANKS[lf] > RANKS[lt])) {
        out.push(
          `${from} -> ${to}: '${lf}' (rank ${RANKS[lf]}) imports '${lt}' (rank ${RANKS[lt]})`,
        );
      }
    }
  }
  return out;
}

/** Every import cycle, each as the modules along it. */
export function cycles(graph: Graph): string[][] {
  // Tarjan's strongly connected components; a component of two or more
  // modules (or one importing itself) is a cycle.
  let index = 0;
  const idx = new Map<string, number>(), low = new Map<string, number>();
  const stack: string[] = [], onStack = new Set<string>(), found: string[][] = [];
  const visit = (v: string) => {
    idx.set(v, index);
    low.set(v, index++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!idx.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, idx.get(w)!));
    }
    if (low.get(v) === idx.get(v)) {
      const scc: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        scc.push(w);
      } while (w !== v);
      if (scc.length > 1 || graph.get(v)?.has(v)) found.push(scc.sort());
    }
  };
  for (const v of graph.keys()) if (!idx.has(v)) visit(v);
  return found;
}

async function publicEntries(): Promise<string[]> {
  const config = JSON.parse(await Deno.readTextFile(new URL("deno.json", ROOT)));
  return Object.values(config.exports as Record<string, string>);
}

Deno.test("layering: no module imports a layer above its own or beside it", async () => {
  assertEquals(violations(await graphOf(await publicEntries())), []);
});

Deno.test("layering: no import cycles, type-only imports included", async () => {
  assertEquals(cycles(await graphOf(await publicEntries())), []);
});

/** The modules reachable from `entry` in `graph`, itself included. */
function reachable(graph: Graph, entry: string): Set<string> {
  const seen = new Set<string>();
  const visit = (v: string) => {
    if (seen.has(v)) return;
    seen.add(v);
    for (const w of graph.get(v) ?? []) visit(w);
  };
  visit(entry);
  return seen;
}

Deno.test("layering: a starting child loads no hub module, nor what only some children use", async () => {
  // Each module costs a starting child about 0.1-0.2 ms: those that revive
  // handles, take grants, report a failure, run the reaper, connect back
  // to the parent (a child started cold does not), derive keys or hold a
  // worker's event loop load when used.
  const entry = "_internal/process/child.ts";
  const loaded = reachable(await graphOf([entry], "loaded"), entry);
  const onDemand = [
    "_internal/wire/error_data.ts",
    "_internal/process/reaper_main.ts",
    "_internal/transport/channel.ts",
    "_internal/transport/sockets.ts",
    "_internal/transport/auth.ts",
    "_internal/transport/keys.ts",
    "_internal/transport/sha256.ts",
    "_internal/base/async.ts",
    "_internal/base/errors.ts",
  ];
  assertEquals(
    [...loaded].filter((m) => layerOf(m) === "_internal/hub" || onDemand.includes(m)),
    [],
  );
  // What every child needs is there: the graph was read.
  for (const m of ["_internal/wire/codec.ts", "_internal/process/start_report.ts"]) {
    assert(loaded.has(m), [...loaded].join(", "));
  }
});

Deno.test("layering: a child started cold reads, before it runs, only what its start needs", async () => {
  // `deno run` reads and analyses an entry's statically analysable dynamic
  // imports, and theirs, before it runs it: a child started cold reaches
  // none of what workers, spares, handles or the reaper need, by any import
  // (they cost it 1 ms); only a failing start's error data, on demand.
  const entry = "_internal/process/child.ts";
  const read = reachable(await graphOf([entry], "read"), entry);
  const loaded = reachable(await graphOf([entry], "loaded"), entry);
  assertEquals([...read].filter((m) => !loaded.has(m)).sort(), [
    "_internal/base/errors.ts",
    "_internal/wire/error_data.ts",
  ]);
  // The others start where those are: the entry for them reaches them.
  const linked = "_internal/process/child_linked.ts";
  const more = reachable(await graphOf([linked], "read"), linked);
  for (const m of [entry, "_internal/hub/handles.ts", "_internal/transport/channel.ts"]) {
    assert(more.has(m), [...more].join(", "));
  }
});

Deno.test("layering: a child started cold loads one module, the bundle of today's child entry", async () => {
  // Fourteen TypeScript modules took Deno 1.2 ms more to load than their
  // bundle: children start in the bundle, which must be made from the
  // sources as they are (`deno task bundle` makes it again).
  assertEquals(CHILD_ENTRY_URL, new URL(BUNDLE, ROOT).href);
  const text = await Deno.readTextFile(new URL(BUNDLE, ROOT));
  assertEquals(await staleness(text), undefined, "run `deno task bundle`");
  assertEquals([...reachable(await graphOf([BUNDLE], "read"), BUNDLE)], [BUNDLE]);
});

Deno.test("layering: the bundle's check fails on an edited bundle and on a changed source", async () => {
  const text = await Deno.readTextFile(new URL(BUNDLE, ROOT));
  const [first, second, ...body] = text.split("\n");
  assertEquals(await staleness(body.join("\n")), "it has no header");
  const edited = [first, second, ...body, "globalThis.x = 1;"].join("\n");
  assertEquals(await staleness(edited), "its body was edited");
  // A header made for a source of other content: its digest differs.
  const changed = second.replace(/sources [0-9a-f]{64}/, `sources ${"0".repeat(64)}`);
  assert((await staleness([first, changed, ...body].join("\n")))?.startsWith("a module it was"));
  // A module it names that is not there (moved, or renamed).
  const goneBody = [...body, "// _internal/process/gone.ts"].join("\n");
  const goneSecond = second.replace(/body [0-9a-f]{64}/, `body ${await digest(goneBody)}`);
  assertEquals(
    await staleness([first, goneSecond, goneBody].join("\n")),
    "a module it was made from is gone",
  );
  // Line ends written as \r\n (a checkout with autocrlf) are the same bundle.
  assertEquals(await staleness(text.replaceAll("\n", "\r\n")), undefined);
  // A body the entry is not named in was not made from it.
  const other = await withHeader(`// tools/child_bundle.ts\nexport {};\n`);
  assertEquals(await staleness(other), `it was not made from ${ENTRY}`);
});

Deno.test("layering: mod.ts first imports the list of every module it loads, in their evaluation order", async () => {
  // Asked for at once, Deno read the package's 96 modules 2 ms sooner than
  // import level by import level (tools/preload.ts).
  const order = await loadOrder();
  const text = await Deno.readTextFile(new URL(PRELOAD, ROOT));
  assertEquals(text, render(order), "run `deno task bundle`");
  const mod = await Deno.readTextFile(new URL(MOD, ROOT));
  assertEquals(mod.match(/^(?:import|export) .*$/m)?.[0], `import "./${PRELOAD}";`);
  // Its order is one the graph allows: every module after what it loads.
  const graph = await graphOf([MOD], "loaded");
  const listed = [...text.matchAll(/^import "\.\/(.+)";$/gm)].map((m) => m[1]);
  assertEquals(listed, order);
  assertEquals(
    new Set(listed),
    new Set([...reachable(graph, MOD)].filter((m) => m !== MOD && m !== PRELOAD)),
  );
  for (const [i, m] of listed.entries()) {
    const later = [...graph.get(m) ?? []].filter((d) => listed.indexOf(d) > i);
    assertEquals(later, [], `${m} is listed before what it imports`);
  }
});

Deno.test("layering: the evaluation order is depth first, imports in source order, and refuses a cycle", () => {
  const imports = new Map([
    ["mod.ts", ["a.ts", "b.ts"]],
    ["a.ts", ["c.ts"]],
    ["b.ts", ["d.ts", "a.ts"]],
  ]);
  assertEquals(evaluationOrder(imports, "mod.ts"), ["c.ts", "a.ts", "d.ts", "b.ts", "mod.ts"]);
  imports.set("c.ts", ["b.ts"]);
  assertThrows(
    () => evaluationOrder(imports, "mod.ts"),
    Error,
    "Import cycle: mod.ts -> a.ts -> c.ts -> b.ts -> a.ts",
  );
});

Deno.test("layering: a program importing any entry loads no launcher, hub, socket or engine before it uses one", async () => {
  // A child imports its target's module, and with it what that module
  // imports: a target beside a `Process` made every child load both
  // launchers, the spares, the hub, its server, client and sockets, the
  // pool's worker loop and the manager's server (the package's entry: 766
  // KB of modules, 24 ms of its start) to run code that uses none of them.
  // They load when a process starts, an object is first shared or reached,
  // a pool starts a worker, a manager starts or connects. Nor does a
  // program load the child entries (42 KB) to learn that it is not a
  // compiled binary's child: `standalone.ts` loads them when it is.
  const onUse = [
    "_internal/process/child.ts",
    "_internal/process/child_linked.ts",
    "_internal/process/child_run.ts",
    "_internal/process/launch_key.ts",
    "_internal/process/start_report.ts",
    "_internal/process/popen_subprocess.ts",
    "_internal/process/popen_worker.ts",
    "_internal/process/spares.ts",
    "_internal/process/threads.ts",
    "_internal/process/reaper.ts",
    "_internal/hub/hub.ts",
    "_internal/hub/server.ts",
    "_internal/hub/client.ts",
    "_internal/hub/connect.ts",
    "_internal/hub/grants.ts",
    "_internal/transport/channel.ts",
    "_internal/transport/sockets.ts",
    "_internal/transport/auth.ts",
    "_internal/wire/framing.ts",
    "_internal/pool/worker.ts",
    "_internal/pool/run_task.ts",
    "_internal/pool/port_link.ts",
    "_internal/manager/server.ts",
    "manager/_main.ts",
    "manager/_start.ts",
  ];
  for (const entry of await publicEntries()) {
    const e = entry.replace(/^\.\//, "");
    const loaded = reachable(await graphOf([e], "loaded"), e);
    assertEquals([e, [...loaded].filter((m) => onUse.includes(m))], [e, []]);
  }
  // They are there to load: a compiled binary embeds what its graph reads.
  const read = reachable(await graphOf(["mod.ts"], "read"), "mod.ts");
  assertEquals(onUse.filter((m) => !read.has(m)), []);
});

Deno.test("layering: the checks fail on an upward import and on a cycle", () => {
  const graph: Graph = new Map([
    ["_internal/hub/a.ts", new Set(["queue.ts"])],
    ["queue.ts", new Set(["_internal/hub/a.ts"])],
    ["pool.ts", new Set(["manager.ts"])],
    ["manager.ts", new Set()],
  ]);
  assertEquals(violations(graph), [
    "_internal/hub/a.ts -> queue.ts: _internal/ imports a module outside it",
    "pool.ts -> manager.ts: 'pool' (rank 10) imports 'manager' (rank 10)",
  ]);
  assertEquals(cycles(graph), [["_internal/hub/a.ts", "queue.ts"]]);
});
