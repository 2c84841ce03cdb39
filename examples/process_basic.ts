/**
 * The first steps of Python's multiprocessing, in Deno: start children with
 * both start methods, pass arguments, read exit codes, stop a runaway child.
 *
 * Run it with `deno task demo` (or `deno run -A examples/process_basic.ts`).
 */
import {
  activeChildren,
  currentProcess,
  parentProcess,
  Process,
  type StartMethod,
} from "../mod.ts";

/** A target: exported, so the child can find it in this module. */
export function greet(greeting: string, options: { times: number }): void {
  const me = currentProcess();
  for (let i = 0; i < options.times; i++) {
    console.log(
      `  ${greeting} from ${me.name} (pid ${me.pid}, parent ${parentProcess()?.name})`,
    );
  }
}

/** Sleeps for ever, until terminated. */
export async function sleepForever(): Promise<void> {
  await new Promise(() => setTimeout(() => {}, 1 << 30));
}

/** Exits with the code it is given, as Python's sys.exit(n). */
export function exitWith(code: number): void {
  Deno.exit(code);
}

// Everything below runs in the parent only: children import this module
// without running it, as Python's children skip `if __name__ == "__main__"`.
if (import.meta.main) {
  for (const startMethod of ["subprocess", "worker"] as StartMethod[]) {
    console.log(`startMethod: "${startMethod}"`);

    const p = new Process({
      target: greet,
      args: ["hello", { times: 2 }],
      startMethod,
    });
    const t0 = performance.now();
    await p.start();
    await p.join();
    console.log(
      `  ${p.name} exited with ${p.exitCode} after ${(performance.now() - t0).toFixed(0)} ms`,
    );

    const e = new Process({ target: exitWith, args: [3], startMethod });
    await e.start();
    await e.join();
    console.log(`  ${e.name}: Deno.exit(3) gives exit code ${e.exitCode}`);

    const s = new Process({ target: sleepForever, startMethod });
    await s.start();
    console.log(
      `  ${s.name} alive: ${s.isAlive()}, active children: ${activeChildren().length}`,
    );
    s.terminate();
    await s.join();
    console.log(
      `  after terminate(): exit code ${s.exitCode}, alive: ${s.isAlive()}`,
    );
  }
}
