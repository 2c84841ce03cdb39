/**
 * Managers: a manager process hosts shared objects (queues, dicts, lists,
 * namespaces, values, locks…) and serves them over authenticated sockets,
 * as Python's `multiprocessing.managers` does. A factory call resolves a
 * proxy: a handle that can be passed to any Process or Pool task (of either
 * start method), and even reached by unrelated processes that know the
 * manager's address and key. Objects live while a proxy anywhere holds them.
 *
 * @example A dict shared with a child
 * ```ts
 * import { Manager, Process } from "@mp/multiprocessing";
 * import { record } from "@mp/multiprocessing/targets";
 * import { assertEquals } from "@std/assert";
 *
 * const module = import.meta.resolve("@mp/multiprocessing/targets");
 *
 * await using manager = await Manager.start();
 * const d = await manager.dict<string, number>();
 * await using p = new Process({ target: record, args: [d, "answer", 42], module });
 * await p.start();
 * await p.join();
 * assertEquals(await d.items(), [["answer", 42]]);
 * ```
 *
 * @module
 */

export {
  ArrayProxy,
  BaseProxy,
  type DictKey,
  DictProxy,
  ListProxy,
  MappingProxy,
  NamespaceProxy,
  ObjectProxy,
  SequenceProxy,
  ValueProxy,
} from "./manager/proxies.ts";
export { BaseManager } from "./manager/base_manager.ts";
export type { Factory, MethodNames, ProxyFor, RegisteredProxy } from "./manager/object_proxy.ts";
export { Manager } from "./manager/sync_manager.ts";
export type {
  ManagerAddress,
  ManagerOptions,
  RegisterOptions,
  ServeForeverOptions,
} from "./manager/options.ts";
