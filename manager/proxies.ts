/**
 * Proxies to the objects a manager serves: typed handles with explicit
 * methods, every one async. A proxy travels as its manager's address and the
 * object's id (as an argument of a Process or a Pool task, or inside a value
 * stored in another proxy) and reconnects wherever it is revived. This
 * module registers how each kind is revived.
 *
 * @module
 */

import { type Descriptor, registerReviver } from "../_internal/hub/handles.ts";
import "../_internal/manager/refcount.ts";
import { PROXY_INIT } from "../_internal/manager/proxy_calls.ts";
import { ArrayProxy } from "./array_proxy.ts";
import type { BaseProxy } from "./base_proxy.ts";
import { DictProxy } from "./dict_proxy.ts";
import { ListProxy } from "./list_proxy.ts";
import { NamespaceProxy } from "./namespace_proxy.ts";
import { ObjectProxy } from "./object_proxy.ts";
import { ValueProxy } from "./value_proxy.ts";

export { ArrayProxy, DictProxy, ListProxy, NamespaceProxy, ObjectProxy, ValueProxy };
export { BaseProxy } from "./base_proxy.ts";
export { MappingProxy } from "./mapping_proxy.ts";
export { SequenceProxy } from "./sequence_proxy.ts";
export type { DictKey } from "../_internal/manager/holdings.ts";

function reviver(Cls: new (init: never) => BaseProxy) {
  return (d: Descriptor) => new Cls({ [PROXY_INIT]: d } as never);
}

registerReviver("mp.dict", reviver(DictProxy));
registerReviver("mp.list", reviver(ListProxy));
registerReviver("mp.namespace", reviver(NamespaceProxy));
registerReviver("mp.value", reviver(ValueProxy));
registerReviver("mp.array", reviver(ArrayProxy));
registerReviver("mp.object", reviver(ObjectProxy));
