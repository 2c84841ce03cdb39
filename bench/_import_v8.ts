// A child that loads node:v8, as wire.ts does for its first payload that JSON
// cannot carry: `deno run` of this file against _empty.ts is what that costs.
await import("node:v8");
