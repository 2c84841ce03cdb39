// A worker thread's own port to its pool (_internal/pool/port_link.ts):
// values go as they were at the send, in order, then the end. (The engine
// over real ports: tests/pool_engine_test.ts.)
import { assertEquals, assertRejects } from "@std/assert";
import { EOFError, Process } from "../mod.ts";
import { PortLink, portPair } from "../_internal/pool/port_link.ts";
import { TRANSFER } from "../_internal/base/symbols.ts";
import { TARGETS } from "./_helpers.ts";

/** Both ends of a fresh port pair. */
async function linked(): Promise<[PortLink, PortLink]> {
  const { port1, port2 } = await portPair();
  return [new PortLink(port1), new PortLink(port2)];
}

Deno.test("PortLink: values arrive as they were at the send, in order (JSON text and structured clone), then the end", async () => {
  const [a, b] = await linked();
  const json = { x: 1, list: [1] };
  const map = new Map([["k", [1]]]);
  await a.send(json);
  await a.send(map);
  await a.send("text");
  json.x = 2;
  json.list.push(2);
  map.get("k")!.push(2);
  a.close();
  assertEquals(await b.recv(), { x: 1, list: [1] });
  assertEquals(await b.recv(), new Map([["k", [1]]]));
  assertEquals(await b.recv(), "text");
  await assertRejects(() => b.recv(), EOFError);
  await assertRejects(() => a.send(1), EOFError);
  b.close();
});

Deno.test("PortLink: a pending receive ends with EOFError when the other end closes; an unclonable value is refused at the send", async () => {
  const [a, b] = await linked();
  const pending = b.recv();
  await assertRejects(() => a.send({ f: () => {} }), DOMException);
  a.close();
  await assertRejects(() => pending, EOFError);
  b.close();
});

Deno.test("PortLink: what is not JSON text arrives as it came, for the protocol check to refuse", async () => {
  const { port1, port2 } = await portPair();
  const b = new PortLink(port2);
  port1.postMessage("{not json");
  assertEquals(await b.recv(), "{not json");
  port1.close();
  b.close();
});

Deno.test("Process: a transfer is refused for a subprocess child, which cannot take one", async () => {
  const { port1, port2 } = await portPair();
  const p = new Process({
    target: () => {},
    args: [port2],
    module: TARGETS,
    startMethod: "subprocess",
    [TRANSFER]: [port2],
  } as never);
  await assertRejects(() => p.start(), TypeError, "only a worker child takes a transfer");
  port1.close();
  port2.close();
});
