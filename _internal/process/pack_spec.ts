/**
 * A child's task as it leaves: handles in its arguments and fields packed
 * into descriptors, their paths beside them, and what the child needs to
 * reach their hosts (the keys of hosts with keys of their own, or, for a
 * sandboxed child, its key and grants there: `hub/grants.ts`). None of it
 * ever goes on a command line.
 *
 * @module
 */

import { descriptorsAt, type PackContext, packHandles } from "../hub/handles.ts";
import { launchAccess } from "../hub/grants.ts";
import type { TaskSpec } from "./task_spec.ts";

/** Packs `spec`'s arguments and fields in place, for a child in sandbox `kid` (if any). */
export async function packSpec(spec: TaskSpec, ctx: PackContext, kid?: string): Promise<void> {
  const args = await packHandles(spec.args, ctx);
  const fields = await packHandles(spec.fields, ctx);
  spec.args = args.value;
  spec.fields = fields.value;
  if (kid) spec.kid = kid;
  if (!args.handles && !fields.handles) return;
  // Where the handles are travels beside the values: nothing else in them is one.
  spec.handles = {
    ...(args.handles ? { args: args.handles } : {}),
    ...(fields.handles ? { fields: fields.handles } : {}),
  };
  const ds = [
    ...descriptorsAt(args.value, args.handles),
    ...descriptorsAt(fields.value, fields.handles),
  ];
  const access = launchAccess(ds, kid);
  if (access) spec.access = access;
}
