/**
 * Everything the cluster takes from the core's private layers, in one
 * place: when those layers move, this is the one file to re-point. The
 * cluster's public files import the core's public modules (`pool.ts`,
 * `queue.ts`: the pool's interface and `AsyncResult` among them) directly;
 * nothing in the core imports the cluster.
 *
 * @module
 */

export { type AnyFn, findTarget, fingerprint, type TargetRef } from "../process/target.ts";
export {
  AuthenticationError,
  ProcessError,
  QueueClosedError,
  QueueEmptyError,
  QueueFullError,
  RemoteError,
} from "../base/errors.ts";
export { hasHandles, valueNow } from "../hub/handles.ts";
export { failedIterator, imapChunks } from "../pool/imap.ts";
export { lengthOf, type Progress, progressOf } from "../pool/progress.ts";
export { blockingWait } from "../base/waits.ts";
export { untilClosed } from "../base/async.ts";
export { checkOptionNames, optionNames } from "../base/options.ts";
export { type CallSite, callSite, withCallSite, withoutCallSite } from "../base/call_site.ts";
export { hmacSha256 } from "../transport/sha256.ts";
export { findConfig } from "../process/launch.ts";
export { state } from "../base/state.ts";
export { decodeAsync, encode } from "../wire/codec.ts";
export { type ErrorData, errorFromData, errorToData } from "../wire/error_data.ts";
