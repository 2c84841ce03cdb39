// Values that would silently change: an object of a user's class would
// arrive as a plain object, without its methods. It is refused with a
// DataCloneError naming the class and the path, unless `clone: "plain"`.
import { assertEquals, assertRejects, assertStringIncludes } from "@std/assert";
import { Pool, Process, Queue } from "../mod.ts";
import {
  makePoint,
  Point,
  putPoints,
  putTaggedArray,
  shapeOf,
  square,
  taggedArray,
} from "./fixtures/pool_targets.ts";
import { testBoth } from "./_helpers.ts";

const module = new URL("./fixtures/pool_targets.ts", import.meta.url).href;

async function refused(p: () => Promise<unknown>, path: string): Promise<void> {
  const err = await assertRejects(p, DOMException);
  assertEquals(err.name, "DataCloneError");
  assertStringIncludes(err.message, `Cannot clone ${path}: it is an instance of Point`);
  assertStringIncludes(err.message, `clone: "plain"`);
}

testBoth(
  "Process: a class instance among the args is refused with its path",
  async (startMethod) => {
    const p = new Process({
      target: shapeOf,
      args: [{ point: new Point(1, 2) }],
      module,
      startMethod,
    });
    await refused(() => p.start(), "args[0].point");
    await using plain = new Process({
      target: shapeOf,
      args: [{ point: new Point(1, 2) }],
      module,
      startMethod,
      clone: "plain",
    });
    await plain.start();
    await plain.join();
    assertEquals(plain.exitCode, 0);
  },
);

testBoth(
  'Pool: class instances refused as arguments, items and results; clone: "plain" copies them',
  async (startMethod) => {
    await using pool = new Pool({ processes: 1, module, startMethod });
    await refused(() => pool.apply(shapeOf, [{ point: new Point(1, 2) }]), "args[0].point");
    await refused(() => pool.map(shapeOf, [1, 2, new Point(3, 4)]), "items[2]");
    await refused(() => pool.starmap(shapeOf, [[1], [new Point(3, 4)]]), "items[1][0]");
    const it = pool.imap(shapeOf, [1, new Point(3, 4)]);
    assertEquals(await it.next(), { value: "other undefined", done: false });
    await refused(() => it.next(), "items[1]");
    await refused(() => pool.apply(makePoint, [5]), "result");
    assertEquals(await pool.apply(shapeOf, [new Point(1, 2)], { clone: "plain" }), "plain 1");
    assertEquals<unknown>(await pool.apply(makePoint, [5], { clone: "plain" }), { x: 5, y: 0 });
    await using lax = new Pool({ processes: 1, module, startMethod, clone: "plain" });
    assertEquals(await lax.map(shapeOf, [new Point(7, 0)]), ["plain 7"]);
    assertEquals(await pool.map(square, [1, 2]), [1, 4], "plain data still goes");
  },
);

testBoth(
  'Queue: a class instance put is refused; clone: "plain" per queue or per put',
  async (startMethod) => {
    await using q = new Queue<unknown>();
    await refused(() => q.put({ point: new Point(1, 2) }), "item.point");
    await q.put(new Point(1, 2), { clone: "plain" });
    assertEquals(Object.getPrototypeOf(await q.get()), Object.prototype);
    await using lax = new Queue<unknown>(0, { clone: "plain" });
    await lax.put([new Point(3, 4)]);
    assertEquals(await lax.get(), [{ x: 3, y: 4 }]);
    // Errors, built-ins and handles are allowed as they are.
    await q.put([
      new RangeError("r"),
      new Map([[1, new Set([2])]]),
      new Date(0),
      new Uint8Array(2),
      lax,
    ]);
    assertEquals((await q.get() as [Error])[0].message, "r");
    // The same from a child: the check runs where the item is put.
    await using p = new Process({ target: putPoints, args: [q], module, startMethod });
    await p.start();
    assertStringIncludes(
      await q.get() as string,
      "refused: DataCloneError Cannot clone item: it is an instance of Point",
    );
    assertEquals(await q.get(), { x: 3, y: 4 });
    await p.join();
  },
);

testBoth(
  "Queue: a class instance in an array's extra property is refused, in the host and in a child",
  async (startMethod) => {
    await using q = new Queue<unknown>();
    await refused(() => q.put({ list: taggedArray() }), "item.list[tag]");
    await refused(() => q.put(taggedArray()), "item[tag]");
    await using p = new Process({ target: putTaggedArray, args: [q], module, startMethod });
    await p.start();
    assertStringIncludes(
      await q.get() as string,
      "refused: DataCloneError Cannot clone item.list[tag]: it is an instance of Point",
    );
    await p.join();
  },
);
