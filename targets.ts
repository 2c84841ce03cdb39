/**
 * Ready-made targets: small exported functions that a child, a pool worker
 * or a manager process can find, for the documentation's examples and for
 * trying the library where no module of your own exports a function (a
 * REPL, a notebook, `deno eval`).
 *
 * A target is found in the child by its module, so pass this module with
 * it: `module: import.meta.resolve("@mp/multiprocessing/targets")`. In a
 * program, export your own targets from your main module instead.
 *
 * @example Square numbers on a pool, with a target from here
 * ```ts
 * import { Pool } from "@mp/multiprocessing/pool";
 * import { square } from "@mp/multiprocessing/targets";
 * import { assertEquals } from "@std/assert";
 *
 * const module = import.meta.resolve("@mp/multiprocessing/targets");
 * await using pool = new Pool({ processes: 2, module });
 * assertEquals(await pool.map(square, [1, 2, 3]), [1, 4, 9]);
 * ```
 *
 * @module
 */

/**
 * `x * x`.
 *
 * @param x A number.
 * @returns Its square.
 *
 * @example Square a number
 * ```ts
 * import { square } from "@mp/multiprocessing/targets";
 * import { assertEquals } from "@std/assert";
 *
 * assertEquals(square(3), 9);
 * ```
 */
export function square(x: number): number {
  return x * x;
}

/**
 * `a + b`.
 *
 * @param a A number.
 * @param b Another.
 * @returns Their sum.
 *
 * @example Add two numbers
 * ```ts
 * import { add } from "@mp/multiprocessing/targets";
 * import { assertEquals } from "@std/assert";
 *
 * assertEquals(add(2, 3), 5);
 * ```
 */
export function add(a: number, b: number): number {
  return a + b;
}

/**
 * Does nothing: a child that starts and exits with code 0.
 *
 * @example Do nothing
 * ```ts
 * import { noop } from "@mp/multiprocessing/targets";
 * import { assertEquals } from "@std/assert";
 *
 * assertEquals(noop(), undefined);
 * ```
 */
export function noop(): void {}

/**
 * Exits the child with `code` (`Deno.exit(code)`): its exit code as its
 * parent sees it.
 *
 * @param code The exit code.
 *
 * @example A child's exit code
 * ```ts
 * import { Process } from "@mp/multiprocessing/process";
 * import { exitWith } from "@mp/multiprocessing/targets";
 * import { assertEquals } from "@std/assert";
 *
 * const module = import.meta.resolve("@mp/multiprocessing/targets");
 * await using p = new Process({ target: exitWith, args: [3], module });
 * await p.start();
 * await p.join();
 * assertEquals(p.exitCode, 3);
 * ```
 */
export function exitWith(code: number): void {
  Deno.exit(code);
}

/**
 * Waits `ms` milliseconds, then resolves `ms`.
 *
 * @param ms How long.
 * @returns `ms`.
 *
 * @example Wait, then resolve
 * ```ts
 * import { sleep } from "@mp/multiprocessing/targets";
 * import { assertEquals } from "@std/assert";
 *
 * assertEquals(await sleep(1), 1);
 * ```
 */
export async function sleep(ms: number): Promise<number> {
  await new Promise((resolve) => setTimeout(resolve, ms));
  return ms;
}

/**
 * Throws a `RangeError` with `message`: a task that fails.
 *
 * @param message The error's message.
 * @throws {RangeError} Always.
 *
 * @example Throw a RangeError
 * ```ts
 * import { fail } from "@mp/multiprocessing/targets";
 * import { assertThrows } from "@std/assert";
 *
 * assertThrows(() => fail("boom"), RangeError, "boom");
 * ```
 */
export function fail(message: string): never {
  throw new RangeError(message);
}

/** What {@link produce} puts to: a queue (a `Queue`, a manager's queue, a cluster queue). */
export interface Putter<T> {
  /** Puts one item. */
  put(item: T): Promise<void>;
}

/**
 * Puts `0, 1, …, n - 1` on a queue: a producer child.
 *
 * @param queue The queue.
 * @param n How many numbers.
 *
 * @example A producer child and a consumer parent
 * ```ts
 * import { Process } from "@mp/multiprocessing/process";
 * import { Queue } from "@mp/multiprocessing/queue";
 * import { produce } from "@mp/multiprocessing/targets";
 * import { assertEquals } from "@std/assert";
 *
 * const module = import.meta.resolve("@mp/multiprocessing/targets");
 * await using q = new Queue<number>();
 * await using p = new Process({ target: produce, args: [q, 3], module });
 * await p.start();
 * assertEquals([await q.get(), await q.get(), await q.get()], [0, 1, 2]);
 * await p.join();
 * ```
 */
export async function produce(queue: Putter<number>, n: number): Promise<void> {
  for (let i = 0; i < n; i++) await queue.put(i);
}

/** What {@link increment} adds to: a shared `Value`. */
export interface Addable {
  /** Adds `delta` atomically. */
  add(delta: number): Promise<unknown>;
}

/**
 * Adds 1 to a shared value `n` times, each addition atomic.
 *
 * @param counter A `Value` (or anything with an atomic `add`).
 * @param n How many times.
 *
 * @example Two worker children counting into one shared value
 * ```ts
 * import { Process } from "@mp/multiprocessing/process";
 * import { Value } from "@mp/multiprocessing/shared";
 * import { increment } from "@mp/multiprocessing/targets";
 * import { assertEquals } from "@std/assert";
 *
 * const module = import.meta.resolve("@mp/multiprocessing/targets");
 * await using total = new Value("i", 0);
 * const kids = [1, 2].map(() =>
 *   new Process({ target: increment, args: [total, 100], module, startMethod: "worker" })
 * );
 * for (const p of kids) await p.start();
 * for (const p of kids) await p.join();
 * assertEquals(await total.get(), 200);
 * ```
 */
export async function increment(counter: Addable, n: number): Promise<void> {
  for (let i = 0; i < n; i++) await counter.add(1);
}

/** What {@link echo} talks over: a pipe end (a `Connection`). */
export interface Duplex {
  /** Receives the next message; rejects with `EOFError` once the other end is closed. */
  recv(): Promise<unknown>;
  /** Sends one message. */
  send(value: unknown): Promise<void>;
}

/**
 * Sends back every message it receives over a pipe end, until the other
 * end is closed: a child that answers its parent.
 *
 * @param conn The child's end of a `Pipe()`.
 *
 * @example A child that answers over a pipe
 * ```ts
 * import { Pipe } from "@mp/multiprocessing/connection";
 * import { Process } from "@mp/multiprocessing/process";
 * import { echo } from "@mp/multiprocessing/targets";
 * import { assertEquals } from "@std/assert";
 *
 * const module = import.meta.resolve("@mp/multiprocessing/targets");
 * const [here, there] = Pipe();
 * await using p = new Process({ target: echo, args: [there], module });
 * await p.start();
 * await here.send({ hello: "child" });
 * assertEquals(await here.recv(), { hello: "child" });
 * here.close();
 * await p.join();
 * ```
 */
export async function echo(conn: Duplex): Promise<void> {
  while (true) {
    let value: unknown;
    try {
      value = await conn.recv();
    } catch (err) {
      if ((err as Error)?.name === "EOFError") return;
      throw err;
    }
    await conn.send(value);
  }
}

/** What {@link record} writes to: a dict (a manager's `dict()` proxy, a `Map`). */
export interface Setter<K, V> {
  /** Sets `key` to `value`. */
  set(key: K, value: V): unknown;
}

/**
 * Sets `key` to `value` in a shared dict: a child reporting a result by
 * name.
 *
 * @param dict The dict, e.g. a manager's `dict()` proxy.
 * @param key The key.
 * @param value The value.
 *
 * @example A child writing into a manager's dict
 * ```ts
 * import { Manager } from "@mp/multiprocessing/manager";
 * import { Process } from "@mp/multiprocessing/process";
 * import { record } from "@mp/multiprocessing/targets";
 * import { assertEquals } from "@std/assert";
 *
 * const module = import.meta.resolve("@mp/multiprocessing/targets");
 * await using manager = await Manager.start();
 * const d = await manager.dict<string, number>();
 * await using p = new Process({ target: record, args: [d, "answer", 42], module });
 * await p.start();
 * await p.join();
 * assertEquals(await d.items(), [["answer", 42]]);
 * ```
 */
export async function record<K, V>(dict: Setter<K, V>, key: K, value: V): Promise<void> {
  await dict.set(key, value);
}

/**
 * A tally a manager can serve (`BaseManager.register("Tally", makeTally)`):
 * its proxy has `add`, `value` and `reset` as methods.
 *
 * @example A tally used directly
 * ```ts
 * import { Tally } from "@mp/multiprocessing/targets";
 * import { assertEquals } from "@std/assert";
 *
 * const t = new Tally(1);
 * t.add(2);
 * assertEquals(t.value(), 3);
 * ```
 */
export class Tally {
  #n: number;

  /**
   * A tally starting at `n`.
   *
   * @param n The start value.
   */
  constructor(n = 0) {
    this.#n = n;
  }

  /**
   * Adds `k`.
   *
   * @param k How much.
   * @returns The new value.
   */
  add(k: number): number {
    return this.#n += k;
  }

  /**
   * The value.
   *
   * @returns The value.
   */
  value(): number {
    return this.#n;
  }

  /** Sets it back to 0. */
  reset(): void {
    this.#n = 0;
  }
}

/**
 * Makes a {@link Tally}: a factory to register with a manager.
 *
 * @param n The start value.
 * @returns A new tally.
 *
 * @example A registered type's proxy and its methods
 * ```ts
 * import { BaseManager } from "@mp/multiprocessing/manager";
 * import { makeTally } from "@mp/multiprocessing/targets";
 * import { assertEquals } from "@std/assert";
 *
 * const module = import.meta.resolve("@mp/multiprocessing/targets");
 * await using m = new BaseManager().register("Tally", makeTally, { module });
 * await m.start();
 * const tally = await m.create("Tally", 40);
 * assertEquals(await tally.add(2), 42);
 * ```
 */
export function makeTally(n = 0): Tally {
  return new Tally(n);
}
