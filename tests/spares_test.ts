// Warm spares: children started ahead, waiting for their task.
import { assert, assertEquals, assertRejects, assertStringIncludes } from "@std/assert";
import { activeChildren, getContext, Pool, Process, Queue } from "../mod.ts";
import { setWarm, sparesReady, sparesTaken } from "../_internal/process/spares.ts";
import { noop, whoAmI } from "./fixtures/targets.ts";
import { square } from "./fixtures/pool_targets.ts";
import { tellImport } from "./fixtures/preload_targets.ts";
import { tellQueueReviver } from "./fixtures/preload_queue_target.ts";
import { work } from "./fixtures/child_import_starts.ts";
import { sparesReadyWithin as ready } from "./fixtures/spares_ready.ts";
import { denoRun, fixturePath, TARGETS as module, tempDir, testBoth } from "./_helpers.ts";

testBoth(
  "warm: a start takes a spare, which runs its own task, and a new one is started",
  async (startMethod) => {
    const ctx = getContext(startMethod, { warm: 1 });
    try {
      await ready(startMethod, 1);
      assertEquals(activeChildren().length, 0, "a spare is not an active child");
      await using dir = await tempDir();
      const path = `${dir.path}/who.json`;
      const taken = sparesTaken(startMethod);
      const p = new ctx.Process({ target: whoAmI, args: [path, 1, "two"], module });
      await p.start();
      assertEquals(sparesTaken(startMethod), taken + 1, "the spare was taken");
      await p.join();
      assertEquals(p.exitCode, 0);
      const who = JSON.parse(await Deno.readTextFile(path));
      assertEquals(who, { name: p.name, parent: "MainProcess", args: [1, "two"] });
      await ready(startMethod, 1); // refilled
    } finally {
      await setWarm(startMethod, 0);
    }
  },
);

testBoth(
  "warm: a spare imports the module of the last target started on a spare before its task",
  async (startMethod) => {
    const ctx = getContext(startMethod, { warm: 1 });
    const preloadModule = new URL("./fixtures/preload_targets.ts", import.meta.url).href;
    try {
      await using dir = await tempDir();
      const run = async (i: number) => {
        await ready(startMethod, 1);
        const path = `${dir.path}/${i}.json`;
        const p = new ctx.Process({ target: tellImport, args: [path], module: preloadModule });
        await p.start();
        await p.join();
        assertEquals(p.exitCode, 0);
        const who = JSON.parse(await Deno.readTextFile(path));
        assertEquals(who.name, p.name, "the child knows its own name");
        return who;
      };
      const first = await run(1);
      assertEquals(first.importedBy, first.name, "the first spare imported it with its task");
      // Its replacement imported it while waiting: before it had a name.
      const second = await run(2);
      assert(second.importedBy !== second.name, `imported by ${second.importedBy}`);
      // Either way its top level saw the parent's arguments, as the target does.
      for (const r of [first, second]) {
        assertEquals([r.argsAtImport, r.args], [Deno.args, Deno.args]);
      }
    } finally {
      await setWarm(startMethod, 0);
    }
  },
);

testBoth(
  "warm: a spare also imports the library's module that revived the last task's handles",
  async (startMethod) => {
    const ctx = getContext(startMethod, { warm: 1 });
    const preloadModule = new URL("./fixtures/preload_queue_target.ts", import.meta.url).href;
    try {
      await using q = new Queue<boolean>();
      const run = async () => {
        await ready(startMethod, 1);
        const p = new ctx.Process({ target: tellQueueReviver, args: [q], module: preloadModule });
        await p.start();
        const loaded = await q.get();
        await p.join();
        assertEquals(p.exitCode, 0);
        return loaded;
      };
      // The first (whatever its spare imported for earlier tests) teaches
      // the spares this target and its queue; the next spare has both
      // loaded, queue.ts first (a cold child loads it after the target's
      // module, to revive the argument: false).
      await run();
      assertEquals(await run(), true);
    } finally {
      await setWarm(startMethod, 0);
    }
  },
);

testBoth(
  "warm: a module that starts a process at its top level is refused in a spare's import, as in a child's",
  async (startMethod) => {
    const ctx = getContext(startMethod, { warm: 1 });
    const module = new URL("./fixtures/child_import_starts.ts", import.meta.url).href;
    try {
      for (let i = 0; i < 2; i++) {
        await ready(startMethod, 1);
        const p = new ctx.Process({ target: work, module });
        const err = await assertRejects(() => p.start());
        assertStringIncludes(String(err), "bootstrapping phase");
      }
      assertEquals(activeChildren().length, 0);
    } finally {
      await setWarm(startMethod, 0);
    }
  },
);

testBoth("warm: stopping spares waits for one still starting, which is killed", async (m) => {
  // Started at once, in the background: stopped before it is up. The
  // test's sanitizers fail it if that start is still under way after.
  await setWarm(m, 1);
  await setWarm(m, 0);
  assertEquals(sparesReady(m), 0);
});

testBoth("warm: a child that asks for other permissions starts cold", async (startMethod) => {
  getContext(startMethod, { warm: 1 });
  try {
    await ready(startMethod, 1);
    // Subprocess: narrowed permissions; worker: other runtime flags cannot
    // matter, so a narrowed worker needs --unstable-worker-options: use
    // runtimeArgs, which only subprocess children take, for both.
    const taken = sparesTaken(startMethod);
    const p = new Process({ target: noop, module, startMethod, runtimeArgs: ["--no-lock"] });
    await p.start();
    await p.join();
    assertEquals(p.exitCode, 0);
    assertEquals(sparesTaken(startMethod), taken, "the spare was left");
  } finally {
    await setWarm(startMethod, 0);
  }
});

testBoth("warm: a pool's workers come from spares", async (startMethod) => {
  getContext(startMethod, { warm: 2 });
  try {
    await ready(startMethod, 2);
    const taken = sparesTaken(startMethod);
    await using pool = new Pool({
      processes: 2,
      module: new URL("./fixtures/pool_targets.ts", import.meta.url),
      startMethod,
    });
    assertEquals(await pool.map(square, [1, 2, 3]), [1, 4, 9]);
    assertEquals(sparesTaken(startMethod), taken + 2, "both workers were spares");
    await ready(startMethod, 2);
  } finally {
    await setWarm(startMethod, 0);
  }
});

testBoth(
  "warm: a spare's rehearsal of the task path logs nothing, and its task logs as any child",
  async (startMethod) => {
    const { code, stdout, stderr } = await denoRun([fixturePath("warm_log_main.ts"), startMethod], {
      env: { MP_LOG: "debug" },
    });
    assertEquals(code, 0, stderr);
    const names = stdout.trim().split(" ");
    assertEquals(names.length, 2, stdout);
    for (const name of names) {
      assert(new RegExp(`\\[DEBUG/${name}\\] .* running .*targets\\.ts#noop`).test(stderr), stderr);
      assert(new RegExp(`\\[DEBUG/${name}\\] .* exiting with code 0`).test(stderr), stderr);
    }
    assert(!stderr.includes("rehearsal"), `a rehearsal was logged:\n${stderr}`);
    assertEquals(stderr.match(/exiting with code/g)?.length, 2, stderr);
  },
);
