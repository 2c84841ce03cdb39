/**
 * `ObjectProxy`: a proxy to an object of a registered type, with the
 * methods the type exposes as its own (as Python's proxies have), and the
 * types that give a manager's `create()` its proxies' methods.
 *
 * @module
 */

import { callProxy, extraOf } from "../_internal/manager/proxy_calls.ts";
import { BaseProxy } from "./base_proxy.ts";
import type { Queue } from "../queue.ts";
import type { Barrier, Condition, Event, Lock, Semaphore } from "../synchronize.ts";
import type { Connection } from "../connection.ts";
import type { SharedMemory } from "../shared.ts";

/** A function a manager can register as a type's factory: exported from a module. */
// deno-lint-ignore no-explicit-any
export type Factory = (...args: any[]) => unknown;

/**
 * The method names of `T` a proxy can carry: its functions, less the names
 * a proxy keeps for itself (`call`, `methods`, `id`, `then`, `constructor`).
 */
export type MethodNames<T> =
  & {
    [K in keyof T]: K extends "call" | "methods" | "id" | "then" | "constructor" ? never
      // deno-lint-ignore no-explicit-any
      : T[K] extends (...args: any[]) => unknown ? K
      : never;
  }[keyof T]
  & string;

/**
 * A proxy to an object of type `T`: its methods, each async, beside
 * `call(name, ...args)`.
 *
 * @typeParam T The served object's type.
 */
export type RegisteredProxy<T> =
  & ObjectProxy<T>
  & {
    readonly [K in MethodNames<T>]: T[K] extends (...args: infer A) => infer R
      ? (...args: A) => Promise<Awaited<R>>
      : never;
  };

/**
 * What a manager's `create()` resolves for a factory returning `R` (or a
 * promise of it): the handle itself when the factory returns one (a
 * `Queue`, a lock, a pipe end, a shared value, a proxy), else a
 * {@link RegisteredProxy} to the object (a plain `ObjectProxy` when the
 * type is not known). An object with a `then` method of its own counts as
 * the object, not as a promise.
 */
export type ProxyFor<R> = [R extends Promise<infer U> ? U : R] extends [infer O]
  ? unknown extends O ? ObjectProxy
  : O extends // deno-lint-ignore no-explicit-any
  | Queue<any>
  | Lock
  | Semaphore
  | Event
  | Condition
  | Barrier
  | Connection
  | SharedMemory
  | BaseProxy ? O
  : RegisteredProxy<O>
  : never;

/**
 * A proxy to an object of a type registered with `BaseManager.register`:
 * the methods the type exposes are its own methods (`await store.put(x)`,
 * as Python's proxies), and `call(name, ...args)` reaches them by name.
 * Names a proxy keeps for itself (`call`, `methods`, `id`, `then`) are
 * reached through `call` only.
 *
 * @typeParam T The served object's type (for typing the calls).
 *
 * @example A registered type's methods on its proxy
 * ```ts
 * import { BaseManager } from "@mp/multiprocessing/manager";
 * import { makeTally } from "@mp/multiprocessing/targets";
 * import { assertEquals } from "@std/assert";
 *
 * const module = import.meta.resolve("@mp/multiprocessing/targets");
 * await using m = new BaseManager().register("Tally", makeTally, { module });
 * await m.start();
 * const tally = await m.create("Tally", 5);
 * await tally.add(2);
 * assertEquals(await tally.call("value"), 7);
 * ```
 */
// deno-lint-ignore no-explicit-any
export class ObjectProxy<T = Record<string, (...args: any[]) => unknown>> extends BaseProxy {
  /**
   * Proxies come from a manager's `create()`.
   *
   * @ignore
   */
  constructor(init: never) {
    super(init);
    for (const name of this.methods) {
      if (name in this || name === "then") continue;
      Object.defineProperty(this, name, {
        value: (...args: unknown[]) => this.#callByName(name, args),
        configurable: true,
      });
    }
  }

  /** The methods the object exposes. */
  get methods(): readonly string[] {
    return extraOf(this).methods as string[];
  }

  async #callByName(method: string, args: unknown[]): Promise<unknown> {
    return await callProxy(this, method, args);
  }

  /**
   * Calls an exposed method by name and resolves its result.
   *
   * @param method The method's name.
   * @param args Its arguments.
   * @returns What it returned.
   * @throws {TypeError} When the method is not exposed.
   */
  async call<M extends keyof T & string>(
    method: M,
    // deno-lint-ignore no-explicit-any
    ...args: T[M] extends (...a: infer A) => any ? A : never
  ): Promise<T[M] extends (...a: never[]) => infer R ? Awaited<R> : never> {
    return await callProxy(this, method, args);
  }
}
