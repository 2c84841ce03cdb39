/**
 * Everything the cluster takes from the core's private layers, in one
 * place: when those layers move, this is the one file to re-point. The
 * cluster's public files import the core's public modules (`pool.ts`,
 * `queue.ts`) directly; nothing in the core imports the cluster.
 *
 * @module
 */

export { AsyncResult } from "../async_result.ts";
export { type AnyFn, findTarget, fingerprint, type TargetRef } from "../child.ts";
export {
  AuthenticationError,
  ProcessError,
  QueueClosedError,
  QueueEmptyError,
  QueueFullError,
  RemoteError,
} from "../errors.ts";
export { hasHandles } from "../handles.ts";
export type { PoolCallOptions, PoolLike, PoolMapOptions } from "../pool_api.ts";
export { hmacSha256 } from "../sha256.ts";
export { findConfig } from "../spawn.ts";
export { state } from "../state.ts";
export { decodeAsync, encode, type ErrorData, errorFromData, errorToData } from "../wire.ts";
