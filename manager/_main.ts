/**
 * The manager's built-in types (queues, locks, dicts, lists…), and the
 * target of a manager process: serve, report where, wait for shutdown.
 * Private to `manager.ts`: it builds the public `Queue` and `Lock` classes,
 * which the layers under `_internal/` may not import.
 *
 * @module
 */

import type { Travelling } from "../_internal/hub/handles.ts";
import { DictCore } from "../_internal/manager/dict_core.ts";
import type { DictKey } from "../_internal/manager/holdings.ts";
import { ListCore } from "../_internal/manager/list_core.ts";
import { NamespaceCore } from "../_internal/manager/namespace_core.ts";
import { ValueCore } from "../_internal/manager/value_core.ts";
import type { Factory, Made } from "../_internal/manager/registry.ts";
import { closeClients } from "../_internal/hub/client.ts";
import type { Address } from "../_internal/transport/address.ts";
import { JoinableQueue, Queue } from "../queue.ts";
import { state } from "../_internal/base/state.ts";
import { Barrier, type BarrierOptions } from "../synchronize/barrier.ts";
import { BoundedSemaphore, Semaphore } from "../synchronize/semaphore.ts";
import { Condition } from "../synchronize/condition.ts";
import { Event } from "../synchronize/event.ts";
import { Lock, RLock } from "../synchronize/lock.ts";
import { serve, type Served, type ServeOptions } from "../_internal/manager/server.ts";
// The proxies' revivers, for handles this process receives.
import "./proxies.ts";

function handleOf(h: Travelling & { [Symbol.asyncDispose](): unknown }): Made {
  return { handle: h, dispose: () => void h[Symbol.asyncDispose]() };
}

function builtins(): Map<string, Factory> {
  const f = new Map<string, Factory>();
  f.set("Queue", (a) => handleOf(new Queue(a[0] as number | undefined)));
  f.set("JoinableQueue", (a) => handleOf(new JoinableQueue(a[0] as number | undefined)));
  f.set(
    "dict",
    (a, h) => ({ core: new DictCore(h, a[0] as [DictKey, unknown][]), kind: "mp.dict" }),
  );
  f.set("list", (a, h) => ({ core: new ListCore(h, a[0] as unknown[]), kind: "mp.list" }));
  f.set("Namespace", (a, h) => ({
    core: new NamespaceCore(h, a[0] as Record<string, unknown>),
    kind: "mp.namespace",
  }));
  f.set("Value", (a, h) => ({
    core: new ValueCore(h, a[1]),
    kind: "mp.value",
    extra: { typecode: a[0] },
  }));
  f.set("Array", (a, h) => ({
    core: new ListCore(h, a[1] as unknown[], true),
    kind: "mp.array",
    extra: { typecode: a[0] },
  }));
  f.set("Lock", () => handleOf(new Lock()));
  f.set("RLock", () => handleOf(new RLock()));
  f.set("Semaphore", (a) => handleOf(new Semaphore(a[0] as number | undefined)));
  f.set("BoundedSemaphore", (a) => handleOf(new BoundedSemaphore(a[0] as number | undefined)));
  f.set("Event", () => handleOf(new Event()));
  f.set("Barrier", (a) => handleOf(new Barrier(a[0] as number, a[1] as BarrierOptions)));
  // A Condition may be built on a lock of this manager: the lock itself
  // (with its memory), held by the condition while it lives.
  f.set("Condition", (a, reg) => {
    const [d] = reg.ownDescriptors(a);
    if (a.length > 0 && !d) {
      throw new TypeError("Cannot create condition: its lock must be a lock of this manager");
    }
    const lock = d ? reg.handleOf(d.id) as Lock : undefined;
    if (d && !(lock instanceof Lock)) {
      throw new TypeError("Cannot create condition: its lock must be a Lock or RLock");
    }
    const cond = new Condition(lock);
    reg.stored(a);
    return {
      handle: cond,
      dispose: () => {
        void cond[Symbol.asyncDispose]();
        reg.removed(a);
      },
    };
  });
  return f;
}

/** What the manager process reports to its owner. */
export interface ManagerInfo {
  /** Where it listens. */
  address: Address;
  /** Its registry's object id. */
  registry: string;
}

/** Serves a manager, with the built-in types, from this process's hub. */
export function serveManager(options: ServeOptions = {}): Promise<Served> {
  return serve(options, { factories: builtins() });
}

/**
 * The manager process's target: serve, report where (over its launch
 * channel, which only its owner reads: never through a queue anyone with a
 * key could put to), wait for shutdown.
 */
export async function managerMain(options: ServeOptions): Promise<void> {
  const report = state().report!;
  let served: Served;
  try {
    served = await serveManager(options);
  } catch (err) {
    await report({ error: (err as Error).message });
    throw err;
  }
  await report({ address: served.address, registry: served.registry } satisfies ManagerInfo);
  // Hang up on the owner's hub (arguments with handles open a connection):
  // it would keep the owner alive (its side is read) after its program ends.
  closeClients();
  await served.done;
}
