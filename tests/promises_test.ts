// A method that returns a promise reports every failure through it: called
// with any arguments, however wrong, it never throws (a caller's
// `.catch()` or `await` in a `try` would miss the error). Checked on every
// public class's promise-returning methods, as `deno doc` lists them.
import { assertEquals } from "@std/assert";
import {
  Barrier,
  BoundedSemaphore,
  Condition,
  Event,
  JoinableQueue,
  Lock,
  Manager,
  Pipe,
  Pool,
  Process,
  Queue,
  RLock,
  Semaphore,
  SharedArray,
  SimpleQueue,
  Value,
} from "../mod.ts";
import { noop } from "../targets.ts";
import { START_METHODS } from "./_helpers.ts";
import { docSymbols } from "./_doc.ts";

const targets = new URL("../targets.ts", import.meta.url).href;

/** Each public class's promise-returning methods, by class name. */
async function promiseMethods(): Promise<Map<string, string[]>> {
  const map = new Map<string, string[]>();
  for (const s of await docSymbols(["mod.ts"])) {
    for (const d of s.declarations) {
      if (d.kind !== "class") continue;
      map.set(
        s.name,
        (d.def?.methods ?? [])
          .filter((m) =>
            m.kind === "method" && !m.name.startsWith("[") &&
            m.functionDef.returnType?.repr === "Promise"
          )
          .map((m) => m.name),
      );
    }
  }
  return map;
}

/** Wrong arguments of every kind, and none. */
const BAD_ARGS: unknown[][] = [
  [],
  [Symbol("bad")],
  [Symbol("bad"), Symbol("bad"), Symbol("bad")],
  [-1, -1, -1],
  [NaN, { unknownOption: 1 }],
  [() => {}, null],
];

/**
 * The `Class.method(args)` calls on `obj` (its class and those it extends)
 * that threw instead of returning a promise. The promises are left to
 * settle or not: only how each call returns is checked.
 */
function syncThrows(obj: object, methods: Map<string, string[]>, skip: string[] = []): string[] {
  const faults: string[] = [];
  for (
    let proto = Object.getPrototypeOf(obj);
    proto && proto !== Object.prototype;
    proto = Object.getPrototypeOf(proto)
  ) {
    const cls = proto.constructor.name;
    for (const name of methods.get(cls) ?? []) {
      if (skip.includes(name)) continue;
      for (const args of BAD_ARGS) {
        try {
          const r = (obj as Record<string, (...a: unknown[]) => unknown>)[name](...args);
          if (r instanceof Promise) r.catch(() => {});
        } catch (err) {
          faults.push(
            `${cls}.${name}(${args.map(String).join(", ")}): threw ${(err as Error)?.name}`,
          );
        }
      }
    }
  }
  return faults;
}

Deno.test({
  name:
    "promise-returning methods of every public class reject, never throw, whatever their arguments",
  // Waits that never end are left behind on purpose (a get on an empty
  // queue, a barrier's wait); each object is closed at the end.
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const methods = await promiseMethods();
    const faults: string[] = [];
    const [a, b] = Pipe();
    const started = START_METHODS.map((startMethod) =>
      new Process({ target: noop, module: targets, startMethod })
    );
    for (const p of started) await p.start();
    const objects: [object, string[]?][] = [
      [a],
      [new Queue()],
      [new JoinableQueue()],
      [new SimpleQueue()],
      [new Lock()],
      [new RLock()],
      [new Semaphore()],
      [new BoundedSemaphore()],
      [new Event()],
      [new Condition()],
      [new Barrier(2)],
      [new Value("i", 0)],
      [new Value("d", 0, { lock: false })],
      [new SharedArray("i", 3)],
      ...started.map((p): [object] => [p]),
      ...START_METHODS.map((startMethod): [object, string[]] => [
        new Pool({ processes: 1, module: targets, startMethod }),
        ["join"],
      ]),
    ];
    const manager = await Manager.start();
    objects.push([manager, ["start", "connect", "serveForever", "shutdown"]]);
    objects.push([await manager.dict()], [await manager.list()], [await manager.Namespace()]);
    objects.push([await manager.Value("i", 0)], [await manager.Array("i", [1])]);
    for (const [obj, skip] of objects) faults.push(...syncThrows(obj, methods, skip));
    assertEquals(faults, []);
    a.close();
    b.close();
    for (const p of started) await p.join();
    for (const [obj] of objects) {
      const o = obj as { [Symbol.asyncDispose]?: () => Promise<void> };
      await o[Symbol.asyncDispose]?.().catch(() => {});
    }
    await manager.shutdown();
  },
});
