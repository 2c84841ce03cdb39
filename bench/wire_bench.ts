// `deno bench -A bench/wire_bench.ts`: the payload encoding of
// _internal/wire.ts against the encodings it chose between (the figures its
// module doc quotes): JSON, `node:v8`'s serializer, `structuredClone`.

import { deserialize, serialize } from "node:v8";
import { decode, encode, encodeSync, loadV8, surelyCloneable } from "../_internal/wire/codec.ts";

// Loaded up front so encodeSync takes the v8 path at once for typed arrays;
// the cost of loading it is the "child start" group below.
await loadV8();

/** A task-sized message: what crosses the wire on every task and result. */
const SMALL = {
  op: "task",
  id: 42,
  name: "Process-1:2",
  args: [1, "two", true, null, { x: 1.5, y: [1, 2, 3] }],
  daemon: false,
};
const MIB = new Uint8Array(1 << 20).map((_, i) => i * 31);
const utf8Encoder = new TextEncoder();
const utf8Decoder = new TextDecoder();

// The comparison is only meaningful if each value takes the path it should.
if (encodeSync(SMALL)![0] !== 0x4a || encodeSync(MIB)![0] !== 0x56) {
  throw new Error("wire.ts no longer sends SMALL as JSON and MIB via node:v8");
}

const small = { group: "small object: encode+decode" };
Deno.bench({
  ...small,
  name: "wire encodeSync+decode",
  baseline: true,
  fn() {
    decode(encodeSync(SMALL)!);
  },
});
Deno.bench({
  ...small,
  name: "wire encode (async)+decode",
  async fn() {
    decode(await encode(SMALL));
  },
});
Deno.bench({
  ...small,
  name: "JSON.stringify+parse (no bytes)",
  fn() {
    JSON.parse(JSON.stringify(SMALL));
  },
});
Deno.bench({
  ...small,
  name: "JSON + UTF-8 bytes (what a frame carries)",
  fn() {
    JSON.parse(utf8Decoder.decode(utf8Encoder.encode(JSON.stringify(SMALL))));
  },
});
Deno.bench({
  ...small,
  name: "node:v8 serialize+deserialize",
  fn() {
    deserialize(serialize(SMALL));
  },
});
Deno.bench({
  ...small,
  name: "structuredClone",
  fn() {
    structuredClone(SMALL);
  },
});

// JSON has no place here: it cannot carry a Uint8Array exactly.
const mib = { group: "1 MiB Uint8Array: encode+decode" };
Deno.bench({
  ...mib,
  name: "wire encodeSync+decode",
  baseline: true,
  fn() {
    decode(encodeSync(MIB)!);
  },
});
Deno.bench({
  ...mib,
  name: "node:v8 serialize+deserialize",
  fn() {
    deserialize(serialize(MIB));
  },
});
Deno.bench({
  ...mib,
  name: "structuredClone",
  fn() {
    structuredClone(MIB);
  },
});

/** `deno run` of a file in a fresh process, the way a child starts. */
// The walk that decides the JSON path, on what a pool sends (a batch of 256
// tasks of one number each, their 256 results) and on a long list of
// numbers, beside JSON.stringify of the same value (the work it precedes).
// Run from two checkouts to compare the walk before and after a change.
const batch = {
  tasks: Array.from({ length: 256 }, (_, i) => ({ id: 100_000 + i, f: 0, calls: [i] })),
  fns: [{ module: "file:///app/tasks.ts", exportName: "noop", fingerprint: "f", kind: "function" }],
  per: [0.001],
};
const results = {
  results: Array.from({ length: 256 }, (_, i) => ({ id: 100_000 + i, value: [i] })),
  t: 0.3,
};
const numbers = Array.from({ length: 1000 }, (_, i) => i * 1.5);
for (
  const [what, value] of [["a pool batch", batch], ["its results", results], [
    "1,000 numbers",
    numbers,
  ]] as const
) {
  const group = `the JSON check: ${what}`;
  Deno.bench({
    group,
    name: "JSON.stringify",
    baseline: true,
    fn() {
      JSON.stringify(value);
    },
  });
  Deno.bench({
    group,
    name: "surelyCloneable",
    fn() {
      if (!surelyCloneable(value)) throw new Error(`${what} no longer takes the JSON path`);
    },
  });
}

async function runChild(file: string): Promise<void> {
  const args = ["run", new URL(file, import.meta.url).href];
  const { code } = await new Deno.Command(Deno.execPath(), { args }).spawn()
    .status;
  if (code !== 0) throw new Error(`deno run ${file} exited with ${code}`);
}

// Why wire.ts loads node:v8 lazily: what importing it adds to a child's start.
const start = { group: "child start: import node:v8", n: 20, warmup: 2 };
Deno.bench({
  ...start,
  name: "deno run <empty file>",
  baseline: true,
  async fn() {
    await runChild("./_empty.ts");
  },
});
Deno.bench({
  ...start,
  name: 'deno run <file with import("node:v8")>',
  async fn() {
    await runChild("./_import_v8.ts");
  },
});
