// A registered type's proxy has the exposed methods as methods, as Python's
// proxies do (`await store.put(x)`), typed through the manager's type map;
// `call(name, ...args)` stays for dynamic use; `register` works on an
// instance (that instance only) as well as on the class.
import { assert, assertEquals, assertRejects } from "@std/assert";
import { BaseManager, Process } from "../mod.ts";
import { makeCounter, makeStore, putInStore, sharedStore } from "./fixtures/manager_targets.ts";
import { denoRun, fixturePath, testBoth } from "./_helpers.ts";

const module = new URL("./fixtures/manager_targets.ts", import.meta.url).href;

class StoreManager extends BaseManager<{
  Store: typeof makeStore;
  SharedStore: typeof sharedStore;
}> {}
StoreManager.register("Store", makeStore, { module });
StoreManager.register("SharedStore", sharedStore, { module });

Deno.test("a registered type's proxy: store.put(x) as a method, typed; call() still works", async () => {
  await using m = new StoreManager();
  await m.start();
  const store = await m.create("Store");
  assertEquals(await store.put(1), 1);
  assertEquals(await store.call("put", 2), 2);
  const size: number = await store.size();
  assertEquals(size, 2);
  assertEquals(await store.items(), [1, 2]);
  assertEquals(store.methods.includes("then"), false, "then is never exposed");
  assertEquals("then" in store, false, "a proxy is not a thenable");
  // @ts-expect-error: the proxy has no such method
  assert(store.missing === undefined);
  // @ts-expect-error: size takes no argument
  await store.size(1).catch(() => {});
});

testBoth(
  "a registered type's proxy reaches a child, which calls its methods",
  async (startMethod) => {
    await using m = new StoreManager();
    await m.start();
    const store = await m.create("Store");
    await using p = new Process({
      target: putInStore,
      args: [store, "from a child"],
      module,
      startMethod,
    });
    await p.start();
    await p.join();
    assertEquals(p.exitCode, 0);
    assertEquals(await store.items(), ["from a child"]);
  },
);

Deno.test("a registered type's proxy in a separate program over TCP: store.put(x)", async () => {
  await using m = new StoreManager({
    address: { hostname: "127.0.0.1", port: 0 },
    authkey: "a key of 16+ bytes",
  });
  await m.start();
  const a = m.address;
  assert(a.transport === "tcp");
  const out = await denoRun([
    fixturePath("store_client_main.ts"),
    `${a.hostname}:${a.port}`,
    "a key of 16+ bytes",
  ]);
  assertEquals(out.code, 0, out.stderr);
  assertEquals(out.stdout.trim(), "1");
  const store = await m.create("SharedStore");
  assertEquals(await store.items(), ["from another program"]);
});

Deno.test("register() on an instance: that instance only, typed by what it returns", async () => {
  await using m = new BaseManager().register("Counter", makeCounter, {
    module,
    methods: ["add", "value"],
  });
  await m.start();
  const counter = await m.create("Counter", 40);
  assertEquals(await counter.add(2), 42);
  assertEquals(await counter.value(), 42);
  await assertRejects(() => counter.call("reset" as never), TypeError, "not an exposed method");
  await using other = new BaseManager();
  await other.start();
  await assertRejects(() => other.create("Counter"), TypeError);
  const started = new BaseManager();
  await started.start();
  try {
    assertEquals(
      (() => {
        try {
          started.register("Late", makeCounter, { module });
          return "registered";
        } catch (err) {
          return (err as Error).message;
        }
      })().includes("before"),
      true,
    );
  } finally {
    await started.shutdown();
  }
});
