/**
 * The options of `Cluster.connect` (re-exported by `cluster.ts`), the
 * engine's too.
 *
 * @module
 */

/** Options of `Cluster.connect`. */
export interface ClusterOptions {
  /** The NATS server(s): `"nats://10.0.0.5:4222"`, or a list (the client fails over). */
  servers: string | string[];
  /** The cluster's name: letters, digits, `_`, `-`; names its streams and buckets. */
  name: string;
  /**
   * The cluster's secret (at least 16 bytes; bytes or hex), the same on
   * every host: it signs every task, item and result.
   */
  authkey: Uint8Array | string;
  /** NATS user (with `pass`). */
  user?: string;
  /** NATS password. */
  pass?: string;
  /** NATS token. */
  token?: string;
  /** TLS options of the NATS client (`caFile`, `certFile`, `keyFile`, …). */
  tls?: {
    caFile?: string;
    certFile?: string;
    keyFile?: string;
    ca?: string;
    cert?: string;
    key?: string;
  };
  /**
   * Lease of a task message, ms: a host that holds one this long without
   * renewing it (it renews while alive) loses it to another. Applied to the
   * cluster when given. @default {30000}
   */
  ackWait?: number;
  /** Deliveries of a task before it fails. Applied to the cluster when given. @default {3} */
  maxAttempts?: number;
  /** Stream replicas, on a clustered NATS (set when the streams are created). @default {1} */
  replicas?: number;
  /** How long an unread result is kept, ms. @default {3600000} */
  resultTtl?: number;
  /** This host's name in `status()` and attempts. @default {Deno.hostname()} */
  host?: string;
  /**
   * The code root: module URLs under it travel relative to it (agents
   * resolve them under theirs). @default {the folder of the main module's deno.json}
   */
  root?: string | URL;
}
