/**
 * `Manager`: Python's `SyncManager`, a {@link BaseManager} with factories
 * for the shared objects of `multiprocessing`.
 *
 * @module
 */

import { BaseManager } from "./base_manager.ts";
import type { ManagerOptions } from "./options.ts";
import type { JoinableQueue, Queue } from "../queue.ts";
import type { Barrier } from "../synchronize/barrier.ts";
import type { BoundedSemaphore, Semaphore } from "../synchronize/semaphore.ts";
import type { Condition } from "../synchronize/condition.ts";
import type { Event } from "../synchronize/event.ts";
import type { Lock, RLock } from "../synchronize/lock.ts";
import type {
  ArrayProxy,
  DictKey,
  DictProxy,
  ListProxy,
  NamespaceProxy,
  ValueProxy,
} from "./proxies.ts";

/**
 * Python's `SyncManager` (what `multiprocessing.Manager()` returns): a
 * {@link BaseManager} with factories for queues, locks, semaphores,
 * conditions, events, barriers, dicts, lists, namespaces, values and arrays.
 *
 * @example A manager queue filled by a pool task
 * ```ts
 * import { Manager } from "@mp/multiprocessing/manager";
 * import { Pool } from "@mp/multiprocessing/pool";
 * import { produce } from "@mp/multiprocessing/targets";
 * import { assertEquals } from "@std/assert";
 *
 * const module = import.meta.resolve("@mp/multiprocessing/targets");
 * await using manager = await Manager.start();
 * const q = await manager.Queue<number>();
 * await using pool = new Pool({ processes: 2, module });
 * await pool.apply(produce, [q, 2]);
 * assertEquals([await q.get(), await q.get()], [0, 1]);
 * ```
 */
export class Manager extends BaseManager {
  /**
   * Creates a manager and starts its process ({@link BaseManager.start}).
   *
   * @param options Where it listens, its key and its process's flags ({@link ManagerOptions}).
   * @returns The started manager.
   * @throws {ProcessError} When the manager process fails to start.
   */
  static async start(options: ManagerOptions = {}): Promise<Manager> {
    const m = new Manager(options);
    await m.start();
    return m;
  }

  /**
   * A queue served by the manager (an ordinary {@link Queue} handle).
   *
   * @param maxsize The most items it holds; `0` (the default) for no limit.
   * @returns The queue.
   */
  Queue<T = unknown>(maxsize = 0): Promise<Queue<T>> {
    return this.create<Queue<T>>("Queue", maxsize);
  }

  /**
   * A joinable queue served by the manager.
   *
   * @param maxsize The most items it holds; `0` (the default) for no limit.
   * @returns The queue (an ordinary {@link JoinableQueue} handle).
   */
  JoinableQueue<T = unknown>(maxsize = 0): Promise<JoinableQueue<T>> {
    return this.create<JoinableQueue<T>>("JoinableQueue", maxsize);
  }

  /**
   * A dict, filled from `init` (a Map, pairs or an object).
   *
   * @param init The initial entries: a `Map`, an array of `[key, value]` pairs or an
   * object; left out, none.
   * @returns A proxy to the dict.
   */
  async dict<K extends DictKey = string, V = unknown>(
    init: Map<K, V> | [K, V][] | Record<string, V> = [],
  ): Promise<DictProxy<K, V>> {
    const pairs = init instanceof Map || Array.isArray(init) ? [...init] : Object.entries(init);
    return await this.create<DictProxy<K, V>>("dict", pairs);
  }

  /**
   * A list of `items`.
   *
   * @param items The initial items; left out, none.
   * @returns A proxy to the list.
   */
  async list<T = unknown>(items: Iterable<T> = []): Promise<ListProxy<T>> {
    return await this.create<ListProxy<T>>("list", [...items]);
  }

  /**
   * A namespace with attributes `attrs`.
   *
   * @param attrs The initial attributes, by name; left out, none.
   * @returns A proxy to the namespace.
   */
  Namespace(attrs: Record<string, unknown> = {}): Promise<NamespaceProxy> {
    return this.create<NamespaceProxy>("Namespace", attrs);
  }

  /**
   * A value; `typecode` (`"i"`, `"d"`…) is kept as data.
   *
   * @param typecode The type code, kept as {@link ValueProxy.typecode} (not checked).
   * @param value The initial value.
   * @returns A proxy to the value.
   */
  Value<T = number>(typecode: string, value: T): Promise<ValueProxy<T>> {
    return this.create<ValueProxy<T>>("Value", typecode, value);
  }

  /**
   * A lock served by the manager (an ordinary {@link Lock} handle).
   *
   * @returns The lock.
   */
  Lock(): Promise<Lock> {
    return this.create<Lock>("Lock");
  }

  /**
   * A recursive lock served by the manager.
   *
   * @returns The lock (an ordinary {@link RLock} handle).
   */
  RLock(): Promise<RLock> {
    return this.create<RLock>("RLock");
  }

  /**
   * A semaphore with `value` permits.
   *
   * @param value The initial number of permits (default 1).
   * @returns The semaphore (an ordinary {@link Semaphore} handle).
   */
  Semaphore(value = 1): Promise<Semaphore> {
    return this.create<Semaphore>("Semaphore", value);
  }

  /**
   * A semaphore that refuses releases above its initial `value`.
   *
   * @param value The initial, and most, number of permits (default 1).
   * @returns The semaphore (an ordinary {@link BoundedSemaphore} handle).
   */
  BoundedSemaphore(value = 1): Promise<BoundedSemaphore> {
    return this.create<BoundedSemaphore>("BoundedSemaphore", value);
  }

  /**
   * A condition variable, on `lock` (a lock of this manager) or a lock of its own.
   *
   * @param lock A `Lock` or `RLock` made by this manager; left out, the condition makes its own.
   * @returns The condition (an ordinary {@link Condition} handle).
   * @throws {TypeError} When `lock` is not a lock of this manager.
   */
  Condition(lock?: Lock): Promise<Condition> {
    return lock ? this.create<Condition>("Condition", lock) : this.create<Condition>("Condition");
  }

  /**
   * An event, initially clear.
   *
   * @returns The event (an ordinary {@link Event} handle).
   */
  Event(): Promise<Event> {
    return this.create<Event>("Event");
  }

  /**
   * A barrier for `parties` (an `action` cannot cross processes: only `timeout`).
   *
   * @param parties How many callers of `wait` it lets through together.
   * @param options `timeout`: the default timeout of `wait`, in milliseconds.
   * @returns The barrier (an ordinary {@link Barrier} handle).
   */
  Barrier(parties: number, options: { timeout?: number } = {}): Promise<Barrier> {
    return this.create<Barrier>("Barrier", parties, options);
  }

  /**
   * A fixed-length array of `items`; `typecode` is kept as data.
   *
   * @param typecode The type code, kept as {@link ArrayProxy.typecode} (not checked).
   * @param items The items; their number is the array's length.
   * @returns A proxy to the array.
   */
  async Array<T = number>(typecode: string, items: Iterable<T>): Promise<ArrayProxy<T>> {
    return await this.create<ArrayProxy<T>>("Array", typecode, [...items]);
  }
}
