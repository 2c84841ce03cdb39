/**
 * The one place the cluster's third-party code comes in: the official NATS
 * client, pinned, with full `npm:` specifiers. (The offline import map in
 * `.ci/std/` replaces `deno.json`'s whole `imports` block, so a bare
 * mapping there would break offline CI.) Nothing below `cluster.ts` imports
 * this file: a program that never imports the cluster never downloads it.
 *
 * @module
 */

export { connect, createInbox, headers } from "npm:@nats-io/transport-node@3.4.0";
export type {
  ConnectionOptions,
  Msg,
  MsgHdrs,
  NatsConnection,
  Subscription,
} from "npm:@nats-io/transport-node@3.4.0";
export {
  AckPolicy,
  DeliverPolicy,
  DiscardPolicy,
  jetstream,
  JetStreamApiError,
  jetstreamManager,
  RetentionPolicy,
  StorageType,
} from "npm:@nats-io/jetstream@3.4.0";
export type {
  ConsumerInfo,
  JetStreamClient,
  JetStreamManager,
  StreamConfig,
  StreamInfo,
} from "npm:@nats-io/jetstream@3.4.0";
export { Kvm } from "npm:@nats-io/kv@3.4.0";
export type { KV, KvEntry } from "npm:@nats-io/kv@3.4.0";
