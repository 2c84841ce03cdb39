// Issue #13, finding 1: no peer's data ever chooses code. Each attack runs
// as a whole program (tests/fixtures/attack_*.ts) and must do no harm.
import { assertEquals, assertMatch } from "@std/assert";
import { denoRun, fixturePath, tempDir, testBoth } from "./_helpers.ts";
import { Pipe, Process } from "../mod.ts";
import { poolWorker } from "../_internal/pool/worker.ts";
import type { Results } from "../_internal/pool/protocol.ts";
import { newSealKey, sealOf } from "../_internal/pool/seal.ts";
import { fingerprint } from "../_internal/process/target.ts";
import { keepAlive } from "../_internal/base/async.ts";

const WORKER_MODULE = new URL("../_internal/pool/worker.ts", import.meta.url).href;
const TARGETS_MODULE = new URL("./fixtures/pool_targets.ts", import.meta.url).href;

testBoth(
  "Security: a value shaped like a handle naming a data: module runs nothing, on every path",
  async (method) => {
    await using dir = await tempDir();
    const out = await denoRun([fixturePath("attack_data_code.ts"), dir.path, method]);
    assertEquals(out.code, 0, out.stderr);
    // Every receiver got the value back as the plain data it was.
    assertEquals(out.stdout.trim().split("\n"), [
      "dict: plain data",
      "create: plain data",
      "queue: plain data",
      "pool: plain data",
      "process: plain data",
    ]);
    // And no process imported the module: no marker was written.
    assertEquals([...Deno.readDirSync(dir.path)].map((e) => e.name), []);
  },
);

testBoth(
  "Security: a pool worker imports only the modules its pool sealed; a task naming another fails",
  async (method) => {
    await using dir = await tempDir();
    // A daemonic worker and its pipe hold nothing alive: this test's waits do.
    using _hold = { [Symbol.dispose]: keepAlive() };
    const key = newSealKey();
    const [mine, theirs] = Pipe();
    await using worker = new Process({
      target: poolWorker,
      args: [theirs, null, 0, key],
      module: WORKER_MODULE,
      startMethod: method,
      daemon: true,
    });
    await worker.start();
    theirs.close();
    assertEquals(await mine.recv(), { ready: true });
    const marker = `${dir.path}/imported`;
    const code = `Deno.writeTextFileSync(${JSON.stringify(marker)}, "ran"); export {};`;
    const evil = `data:text/javascript,${encodeURIComponent(code)}`;
    const fn = { module: evil, exportName: "x", fingerprint: "0", kind: "function" };
    // Unsealed, and sealed with another key: both refused, nothing imported.
    await mine.send({ tasks: [{ id: 1, f: 0, calls: [1] }], fns: [fn] });
    await mine.send({
      tasks: [{ id: 2, f: 0, calls: [1] }],
      fns: [{ ...fn, seal: sealOf(newSealKey(), evil) }],
    });
    const { square } = await import(TARGETS_MODULE);
    const good = {
      module: TARGETS_MODULE,
      exportName: "square",
      fingerprint: fingerprint(square),
      kind: "function",
      seal: sealOf(key, TARGETS_MODULE),
    };
    await mine.send({ tasks: [{ id: 3, f: 0, calls: [7] }], fns: [good] });
    const results = [];
    while (results.length < 3) results.push(...((await mine.recv()) as Results).results);
    assertEquals(results.map((r) => r.id), [1, 2, 3]);
    for (const r of results.slice(0, 2)) {
      assertEquals(r.error?.name, "TypeError");
      assertMatch(r.error!.message, /was not sent by this worker's pool/);
    }
    assertEquals(results[2].value, [49]);
    assertEquals([...Deno.readDirSync(dir.path)], []);
    await mine.send({ stop: true });
    await worker.join();
    mine.close();
  },
);
