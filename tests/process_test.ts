import {
  assert,
  assertEquals,
  assertFalse,
  assertInstanceOf,
  assertMatch,
  assertRejects,
  assertStringIncludes,
  assertThrows,
} from "@std/assert";
import {
  activeChildren,
  cpuCount,
  currentProcess,
  parentProcess,
  Pipe,
  Process,
  ProcessError,
  RemoteError,
  type StartMethod,
} from "../mod.ts";
import {
  exitWith,
  fail,
  noop,
  report,
  sleep,
  Squarer,
  tree,
  writeAuthkey,
  Writer,
} from "./fixtures/targets.ts";
import { TARGETS as module, tempDir, testBoth } from "./_helpers.ts";
import { setLimits } from "../_internal/wire/limits.ts";

// A process's key is made on first read (state.ts); a child is given its
// parent's before it reads one, and keeps it.
testBoth("a child holds its parent's authkey, the same at every read", async (startMethod) => {
  await using dir = await tempDir();
  const out = `${dir.path}/key.json`;
  await using p = new Process({ target: writeAuthkey, args: [out], module, startMethod });
  await p.start();
  await p.join();
  assertEquals(p.exitCode, 0);
  const own = [...currentProcess().authkey].map((b) => b.toString(16).padStart(2, "0")).join("");
  assertEquals(JSON.parse(await Deno.readTextFile(out)), [own, own]);
  assertEquals(currentProcess().authkey, currentProcess().authkey);
});

testBoth(
  "Process passes args and tells the child who it is",
  async (startMethod) => {
    await using dir = await tempDir();
    const out = `${dir.path}/report.json`;
    const args = [1, "two", {
      three: [3],
      when: new Date(0),
      map: new Map([["k", 1n]]),
    }];
    await using p = new Process({
      target: report,
      args: [out, ...args],
      module,
      startMethod,
    });
    await p.start();
    await p.join();
    assertEquals(p.exitCode, 0);
    const seen = JSON.parse(await Deno.readTextFile(out));
    // JSON.stringify in the child flattens the Map and Date; their arrival as
    // such is checked by name below.
    assertEquals(seen.args.slice(0, 2), [1, "two"]);
    assertEquals(seen.args[2].three, [3]);
    assertEquals(seen.name, p.name);
    assertEquals(seen.ident, p.ident);
    assertEquals(seen.daemon, false);
    assertEquals(seen.parent, {
      name: "MainProcess",
      pid: Deno.pid,
      alive: true,
    });
    assertEquals(seen.pid, p.pid);
    if (startMethod === "worker") assertEquals(p.pid, Deno.pid);
    else assert(p.pid !== Deno.pid);
  },
);

testBoth(
  "Process reports isAlive, exitCode and activeChildren before, during and after",
  async (startMethod) => {
    await using p = new Process({
      target: sleep,
      args: [1500],
      module,
      startMethod,
    });
    assertFalse(p.isAlive());
    assertEquals(p.exitCode, null);
    assertEquals(p.pid, undefined);
    assertFalse(activeChildren().includes(p));
    await p.start();
    assert(p.isAlive());
    assertEquals(p.exitCode, null);
    assert(activeChildren().includes(p));
    // join(0) and a short join return while the child still runs.
    await p.join(0);
    assert(p.isAlive());
    assertEquals(p.exitCode, null);
    await p.join(50);
    assert(p.isAlive());
    await p.join();
    assertFalse(p.isAlive());
    assertEquals(p.exitCode, 0);
    assertFalse(activeChildren().includes(p));
    assertEquals(await p.sentinel, 0);
  },
);

for (const [stop, code] of [["terminate", -15], ["kill", -9]] as const) {
  testBoth(`Process.${stop}() ends the child with exit code ${code}`, async (startMethod) => {
    await using p = new Process({ target: sleep, args: [60_000], module, startMethod });
    await p.start();
    p[stop]();
    await p.join();
    assertEquals(p.exitCode, code);
    assertFalse(p.isAlive());
  });
}

testBoth(
  "Process exit codes follow Python: throw is 1, Deno.exit(n) is n, return is 0",
  async (startMethod) => {
    const cases: [Process, number][] = [
      [
        new Process({
          target: fail,
          args: ["expected failure (printed by the child)"],
          module,
          startMethod,
        }),
        1,
      ],
      [new Process({ target: exitWith, args: [8], module, startMethod }), 8],
      [new Process({ target: noop, module, startMethod }), 0],
      [new Process({ startMethod }), 0],
    ];
    for (const [p, code] of cases) {
      await p.start();
      await p.join();
      assertEquals(p.exitCode, code, p.name);
      p.close();
    }
  },
);

testBoth(
  "Process.close() refuses while running, then makes the object unusable",
  async (startMethod) => {
    const p = new Process({ target: sleep, args: [200], module, startMethod });
    await p.start();
    const err = assertThrows(() => p.close(), ProcessError);
    assertMatch(
      err.message,
      /Cannot close process 'Process-\d+' while it is still running/,
    );
    await p.join();
    p.close();
    p.close(); // idempotent
    await assertRejects(
      () => p.start(),
      ProcessError,
      "the process object is closed",
    );
    await assertRejects(
      () => p.join(),
      ProcessError,
      "the process object is closed",
    );
    assertThrows(
      () => p.terminate(),
      ProcessError,
      "the process object is closed",
    );
    assertThrows(
      () => p.sentinel,
      ProcessError,
      "the process object is closed",
    );
    // Python: "process object is closed" from is_alive(), kill() and join() too.
    assertThrows(() => p.isAlive(), ProcessError, "the process object is closed");
    assertThrows(() => p.kill(), ProcessError, "the process object is closed");
  },
);

testBoth(
  "Process passes arguments larger than a pipe holds whole (a subprocess child reads them from its stdin)",
  async (startMethod) => {
    await using dir = await tempDir();
    const out = `${dir.path}/report.json`;
    const big = "x".repeat(1 << 20) + "end";
    await using p = new Process({ target: report, args: [out, big, [1, 2]], module, startMethod });
    await p.start();
    await p.join();
    assertEquals(p.exitCode, 0);
    const seen = JSON.parse(await Deno.readTextFile(out));
    assertEquals(seen.args, [big, [1, 2]]);
  },
);

/**
 * A process whose target module is a fixture this process never imports
 * (its import exits or throws): the child finds out.
 */
function onFixtureModule(name: string, startMethod: StartMethod): Process {
  return new Process({
    target: noop,
    module: new URL(`./fixtures/${name}`, import.meta.url),
    startMethod,
  });
}

testBoth(
  "a child that exits while it imports its target fails start() with its exit code and what it printed",
  async (startMethod) => {
    const p = onFixtureModule("exit_on_import.ts", startMethod);
    const err = await assertRejects(() => p.start(), ProcessError);
    assertStringIncludes(err.message, "code 7");
    if (startMethod === "subprocess") assertStringIncludes(err.message, "leaving while imported");
    assertEquals(p.isAlive(), false);
  },
);

testBoth(
  "a value its target's module throws while a child imports it reaches start() as it was thrown",
  async (startMethod) => {
    const p = onFixtureModule("throw_on_import.ts", startMethod);
    const err = await assertRejects(() => p.start(), RemoteError);
    assertEquals((err as RemoteError & { value: unknown }).value, new Map([["k", 10n]]));
    assertEquals(p.isAlive(), false);
  },
);

Deno.test("a subprocess start whose task passes the message limit is refused with a RangeError, no child left", async () => {
  const restore = setLimits({ message: 10_000 });
  try {
    const p = new Process({
      // Never runs: the start is refused.
      target: report,
      args: ["unused.json", "x".repeat(20_000)],
      module,
      startMethod: "subprocess",
    });
    await assertRejects(() => p.start(), RangeError, "exceeds the limit of 10000 bytes");
    assertEquals(p.pid, undefined);
    assertEquals(activeChildren(), []);
  } finally {
    restore();
  }
});

testBoth(
  "Process refuses a second start, and join or terminate before start",
  async (startMethod) => {
    await using p = new Process({ target: noop, module, startMethod });
    await assertRejects(() => p.join(), ProcessError, "it was never started");
    assertThrows(() => p.terminate(), ProcessError, "it has not started");
    assertThrows(() => p.kill(), ProcessError, "it has not started");
    await p.start();
    await assertRejects(
      () => p.start(),
      ProcessError,
      "a process can only be started once",
    );
    await p.join();
  },
);

testBoth(
  "Process whose start fails before a child exists may be started again, as Python's",
  async (startMethod) => {
    // A closed pipe end cannot be passed: the start fails while packing
    // the arguments, before any child is spawned.
    const [mine, theirs] = Pipe();
    theirs.close();
    const target = noop as (end: unknown) => void;
    await using p = new Process({ target, module, args: [theirs], startMethod });
    for (let attempt = 0; attempt < 2; attempt++) {
      // Not "a process can only be started once": nothing started.
      await assertRejects(() => p.start(), ProcessError, "Cannot pass a closed connection");
      assertEquals([p.pid, p.exitCode, p.isAlive()], [undefined, null, false]);
      assertEquals(activeChildren().includes(p), false);
    }
    await assertRejects(() => p.join(), ProcessError, "it was never started");
    mine.close();
  },
);

testBoth(
  "Process names: Process-N by default, the class name for subclasses, Process-N:M in children",
  async (startMethod) => {
    await using dir = await tempDir();
    const a = new Process({ startMethod });
    const b = new Process({ startMethod, name: "custom" });
    const n = Number(a.name.split("-")[1]);
    assertMatch(a.name, /^Process-\d+$/);
    assertEquals(b.name, "custom");
    const w = new Writer({ startMethod, module });
    assertEquals(w.name, `Writer-${n + 2}`);
    w.path = `${dir.path}/w.txt`;
    w.line = "subclass fields travel";
    await w.start();
    await w.join();
    assertEquals(w.exitCode, 0);
    assertEquals(
      await Deno.readTextFile(w.path),
      `${w.name}: subclass fields travel\n`,
    );
  },
);

testBoth(
  "Process subclass: the child sees the parent's fields and name, and its constructor runs once",
  async (startMethod) => {
    await using dir = await tempDir();
    const path = `${dir.path}/squarer.txt`;
    const p = new Squarer(3, path, { startMethod, module });
    await p.start();
    await p.join();
    assertEquals(p.exitCode, 0);
    assertEquals(
      await Deno.readTextFile(path),
      `constructed in MainProcess\n${p.name} squared 3 to 9\n`,
    );
  },
);

testBoth(
  "a grandchild tree of depth 2 completes in order",
  async (startMethod) => {
    await using dir = await tempDir();
    const out = `${dir.path}/tree.txt`;
    await using p = new Process({
      target: tree,
      args: [out, 2, startMethod],
      module,
      startMethod,
    });
    await p.start();
    await p.join();
    assertEquals(p.exitCode, 0);
    const n = p.name;
    assertEquals((await Deno.readTextFile(out)).trim().split("\n"), [
      `${n}:1:1 done`,
      `${n}:1 joined ${n}:1:1 exit=0 active=0`,
      `${n}:1 done`,
      `${n} joined ${n}:1 exit=0 active=0`,
      `${n} done`,
    ]);
  },
);

testBoth(
  "a target that is not exported fails start() with a TypeError naming the fix",
  async (startMethod) => {
    function local(): void {}
    const p = new Process({ target: local, module, startMethod });
    const err = await assertRejects(() => p.start(), TypeError);
    assertStringIncludes(err.message, "'local' is not exported from");
    assertStringIncludes(err.message, "export { local }");
    assertFalse(p.isAlive());
  },
);

testBoth(
  "a closure named like an export fails start() with a TypeError",
  async (startMethod) => {
    const noop = () => {}; // shadows the exported noop: same name, other source
    const p = new Process({ target: noop, module, startMethod });
    const err = await assertRejects(() => p.start(), TypeError);
    assertStringIncludes(err.message, "not a closure or a copy of it");
  },
);

testBoth("an anonymous target fails start() at once", async (startMethod) => {
  const p = new Process({ target: [() => {}][0], module, startMethod });
  await assertRejects(
    () => p.start(),
    TypeError,
    "the target is an anonymous function",
  );
});

testBoth(
  "an unserializable argument fails start() with a DataCloneError",
  async (startMethod) => {
    const p = new Process({
      target: report,
      args: ["x", () => {}],
      module,
      startMethod,
    });
    const err = await assertRejects(() => p.start());
    assertInstanceOf(err, DOMException);
    assertEquals(err.name, "DataCloneError");
    assertFalse(p.isAlive());
    assertEquals(activeChildren().length, 0);
  },
);

testBoth("a daemonic process may not start children", async (startMethod) => {
  await using dir = await tempDir();
  const out = `${dir.path}/tree.txt`;
  await using p = new Process({
    target: tree,
    args: [out, 1, startMethod],
    module,
    startMethod,
    daemon: true,
  });
  await p.start();
  await p.join();
  assertEquals(p.exitCode, 1, "its attempt to start a child throws");
});

Deno.test("Process validates its options", () => {
  assertThrows(
    () => new Process({ target: 5 as never }),
    TypeError,
    "'target' must be a function, received number",
  );
  assertThrows(
    () => new Process({ args: "x" as never }),
    TypeError,
    "'args' must be an array",
  );
  assertThrows(
    () => new Process({ startMethod: "fork" as never }),
    RangeError,
    `received 'fork'`,
  );
  assertThrows(
    () => new Process({ daemon: 1 as never }),
    TypeError,
    "'daemon' must be a boolean",
  );
  assertThrows(
    () => new Process({ runtimeArgs: [1] as never }),
    TypeError,
    "'runtimeArgs'",
  );
});

Deno.test("Process.join() rejects a negative timeout", async () => {
  await using p = new Process({ target: noop, module });
  await p.start();
  await assertRejects(
    () => p.join(-1),
    RangeError,
    "'timeout' must be a non-negative number, received -1",
  );
  await p.join();
});

Deno.test("currentProcess, parentProcess and cpuCount at the root", () => {
  const me = currentProcess();
  assertEquals(me.name, "MainProcess");
  assertEquals(me.pid, Deno.pid);
  assert(me.isAlive());
  assertEquals(parentProcess(), null);
  assertEquals(cpuCount(), navigator.hardwareConcurrency);
  assertThrows(
    () => me.terminate(),
    ProcessError,
    "it is not a child of this process",
  );
});
