// What `deno doc --json` says of the package's entries, as much of it as
// the tests read (docs_test.ts, promises_test.ts, cluster_docs_test.ts).

export interface DocParam {
  kind: string;
  name?: string;
  left?: DocParam;
  arg?: DocParam;
}
export interface DocType {
  repr?: string;
  value?: { typeParams?: DocType[] };
}
export interface DocFn {
  params?: DocParam[];
  returnType?: DocType;
}
export interface DocTag {
  kind: string;
  name?: string;
}
export interface JsDoc {
  tags?: DocTag[];
}
export interface DocDeclaration {
  kind: string;
  location: { filename: string; line: number };
  jsDoc?: JsDoc;
  def?: DocFn & {
    constructors?: (DocFn & { jsDoc?: JsDoc })[];
    methods?: { name: string; kind: string; jsDoc?: JsDoc; functionDef: DocFn }[];
  };
}
export interface DocSymbol {
  name: string;
  declarations: DocDeclaration[];
}

/**
 * What `deno doc --json` says of `entries` (paths from the package's root):
 * its nodes, one per module, as they come.
 */
export async function docNodes(entries: string[]): Promise<Record<string, unknown>> {
  const root = new URL("../", import.meta.url);
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["doc", "--json", ...entries.map((e) => new URL(e, root).pathname)],
    stdout: "piped",
    stderr: "inherit",
  }).output();
  if (!out.success) throw new Error(`deno doc failed for ${entries.join(" ")}`);
  return JSON.parse(new TextDecoder().decode(out.stdout)).nodes;
}

/**
 * The symbols `deno doc --json` lists for `entries` (paths from the
 * package's root), those every entry re-exports once per entry.
 */
export async function docSymbols(entries: string[]): Promise<DocSymbol[]> {
  const nodes = await docNodes(entries) as Record<string, { symbols?: DocSymbol[] }>;
  return Object.values(nodes).flatMap((n) => n.symbols ?? []);
}
