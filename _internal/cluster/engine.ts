/**
 * A connection to a cluster: the NATS connection, the JetStream handles, the
 * buckets, the cluster's settings, its authkey and code root. `connect()`
 * makes sure the streams, the tasks consumer and the buckets exist (every
 * client does, so whoever comes first creates them; the others find them).
 *
 * @module
 */

import {
  AckPolicy,
  connect,
  DiscardPolicy,
  jetstream,
  JetStreamApiError,
  type JetStreamClient,
  type JetStreamManager,
  jetstreamManager,
  type KV,
  Kvm,
  type NatsConnection,
  RetentionPolicy,
  StorageType,
  type StreamConfig,
} from "./deps.ts";
import { findConfig, state } from "./core.ts";
import { checkName, type Names, namesOf } from "./names.ts";
import { authkeyFrom } from "./seal.ts";
import type { ClusterOptions } from "./options.ts";

/** The cluster's settings as the server holds them. */
export interface Settings {
  /** Lease of a task, ms. */
  ackWait: number;
  /** Deliveries of a task message before it fails. */
  maxAttempts: number;
  replicas: number;
  resultTtl: number;
}

const MS = 1_000_000; // nanoseconds
const DEFAULTS = { ackWait: 30_000, maxAttempts: 3, replicas: 1, resultTtl: 3_600_000 };
const STREAM_NOT_FOUND = 10059;
const CONSUMER_NOT_FOUND = 10014;

function positiveInt(name: string, value: unknown, min = 1, max = Number.MAX_SAFE_INTEGER): number {
  if (!Number.isInteger(value) || (value as number) < min || (value as number) > max) {
    throw new RangeError(
      `Cannot connect to cluster: '${name}' must be an integer from ${min} to ${max}, received ${
        String(value)
      }`,
    );
  }
  return value as number;
}

/** The code root as a file URL ending in `/`: the folder of the main module's deno.json. */
export function rootUrl(root: string | URL | undefined): string {
  let url: URL;
  if (root !== undefined) {
    const s = String(root);
    url = /^[a-z][a-z0-9+.-]*:/i.test(s) ? new URL(s) : new URL(`file://${absolute(s)}`);
  } else {
    const main = state().mainModule;
    const config = findConfig(main);
    url = config
      ? new URL(".", `file://${config}`)
      : main?.startsWith("file:")
      ? new URL(".", main)
      : new URL(`file://${absolute(Deno.cwd())}`);
  }
  return url.href.endsWith("/") ? url.href : `${url.href}/`;
}

function absolute(path: string): string {
  const p = path.startsWith("/") ? path : `${Deno.cwd()}/${path}`;
  return encodeURI(p.endsWith("/") ? p : `${p}/`);
}

/** A live connection to one cluster. */
export class Engine {
  readonly nc: NatsConnection;
  readonly js: JetStreamClient;
  readonly jsm: JetStreamManager;
  /** For health checks that should not wait long: 2 s. */
  readonly jsmQuick: JetStreamManager;
  readonly names: Names;
  readonly key: Uint8Array;
  readonly host: string;
  readonly root: string;
  results!: KV;
  meta!: KV;
  settings!: Settings;
  #closing: Promise<void> | undefined;

  private constructor(
    nc: NatsConnection,
    jsm: JetStreamManager,
    names: Names,
    key: Uint8Array,
    o: ClusterOptions,
  ) {
    this.nc = nc;
    this.jsm = jsm;
    this.jsmQuick = jsm;
    // Publishes, result writes and reads time out after 3 s and are retried
    // (with the same message id, or compare-and-set): one lost with a
    // restarting server would otherwise hold its task for the whole timeout.
    this.js = jetstream(nc, { timeout: 3_000 });
    this.names = names;
    this.key = key;
    this.host = o.host ?? Deno.hostname();
    this.root = rootUrl(o.root);
  }

  /** Connects, and creates what is missing on the server. */
  static async connect(o: ClusterOptions): Promise<Engine> {
    const names = namesOf(checkName("cluster", o.name));
    const key = authkeyFrom(o.authkey, "'authkey'");
    if (o.ackWait !== undefined) positiveInt("ackWait", o.ackWait, 100);
    if (o.maxAttempts !== undefined) positiveInt("maxAttempts", o.maxAttempts, 1, 100);
    if (o.replicas !== undefined) positiveInt("replicas", o.replicas, 1, 5);
    if (o.resultTtl !== undefined) positiveInt("resultTtl", o.resultTtl, 1000);
    if (typeof o.servers !== "string" && !Array.isArray(o.servers)) {
      throw new TypeError("Cannot connect to cluster: 'servers' must be a URL or a list of URLs");
    }
    const nc = await connect({
      servers: o.servers,
      user: o.user,
      pass: o.pass,
      token: o.token,
      tls: o.tls,
      name: `mp ${names.cluster} ${o.host ?? Deno.hostname()} ${Deno.pid}`,
      maxReconnectAttempts: -1,
      reconnectTimeWait: 250,
    });
    try {
      const jsm = await jetstreamManager(nc, { timeout: 5_000 });
      const engine = new Engine(nc, jsm, names, key, o);
      (engine as { jsmQuick: JetStreamManager }).jsmQuick = await jetstreamManager(nc, {
        timeout: 2_000,
        checkAPI: false,
      });
      await engine.#ensure(o);
      return engine;
    } catch (err) {
      await nc.close().catch(() => {});
      throw err;
    }
  }

  async #ensure(o: ClusterOptions): Promise<void> {
    const n = this.names;
    const replicas = o.replicas ?? DEFAULTS.replicas;
    const resultTtl = o.resultTtl ?? DEFAULTS.resultTtl;
    await this.ensureStream({
      name: n.tasksStream,
      subjects: [n.tasksFilter],
      retention: RetentionPolicy.Workqueue,
      num_replicas: replicas,
    });
    await this.#ensureConsumer(o);
    await this.ensureStream({
      name: n.deadStream,
      subjects: [n.deadSubject(">")],
      max_age: 7 * 24 * 3_600_000 * MS,
      max_msgs: 100_000,
      num_replicas: replicas,
    });
    await this.ensureStream({
      name: n.eventsStream,
      subjects: [n.maxDeliveriesAdvisory],
      max_age: 3_600_000 * MS,
      max_msgs: 100_000,
      num_replicas: replicas,
    });
    this.results = await this.#bucket(n.resultsBucket, { ttl: resultTtl, replicas });
    this.meta = await this.#bucket(n.metaBucket, { replicas });
    const info = await this.jsm.streams.info(n.tasksStream);
    this.settings.replicas = info.config.num_replicas;
    this.settings.resultTtl = resultTtl;
  }

  /** Creates a stream unless it exists (as anyone's: the first creator's config stays). */
  async ensureStream(config: Partial<StreamConfig> & { name: string }): Promise<void> {
    try {
      await this.jsm.streams.info(config.name);
      return;
    } catch (err) {
      if (!(err instanceof JetStreamApiError && err.code === STREAM_NOT_FOUND)) throw err;
    }
    try {
      await this.jsm.streams.add({
        storage: StorageType.File,
        discard: DiscardPolicy.Old,
        ...config,
      });
    } catch (err) {
      // Created by another client meanwhile.
      await this.jsm.streams.info(config.name).catch(() => Promise.reject(err));
    }
  }

  /**
   * The tasks consumer: created with this client's settings if missing;
   * settings given explicitly are applied to an existing one.
   */
  async #ensureConsumer(o: ClusterOptions): Promise<void> {
    const n = this.names;
    const wanted = {
      ack_wait: (o.ackWait ?? DEFAULTS.ackWait) * MS,
      max_deliver: o.maxAttempts ?? DEFAULTS.maxAttempts,
    };
    let info;
    try {
      info = await this.jsm.consumers.info(n.tasksStream, n.consumer);
    } catch (err) {
      if (!(err instanceof JetStreamApiError && err.code === CONSUMER_NOT_FOUND)) throw err;
      info = await this.jsm.consumers.add(n.tasksStream, {
        durable_name: n.consumer,
        ack_policy: AckPolicy.Explicit,
        filter_subject: n.tasksFilter,
        max_ack_pending: -1,
        ...wanted,
      });
    }
    const explicit = o.ackWait !== undefined || o.maxAttempts !== undefined;
    const differs = info.config.ack_wait !== wanted.ack_wait ||
      info.config.max_deliver !== wanted.max_deliver;
    if (explicit && differs) {
      info = await this.jsm.consumers.update(n.tasksStream, n.consumer, {
        ack_wait: o.ackWait !== undefined ? wanted.ack_wait : info.config.ack_wait,
        max_deliver: o.maxAttempts ?? info.config.max_deliver,
      });
    }
    this.settings = {
      ackWait: Math.round((info.config.ack_wait ?? wanted.ack_wait) / MS),
      // -1 (unlimited) where someone set it so by hand: no bound of ours then.
      maxAttempts: (info.config.max_deliver ?? -1) > 0 ? info.config.max_deliver! : Infinity,
      replicas: 1,
      resultTtl: 0,
    };
  }

  async #bucket(name: string, opts: { ttl?: number; replicas: number }): Promise<KV> {
    const kvm = new Kvm(this.js);
    try {
      return await kvm.create(name, { history: 1, storage: StorageType.File, ...opts });
    } catch {
      // It exists with another configuration (a first client's): use it.
      return await kvm.open(name);
    }
  }

  /** Closes the connection (once). */
  close(): Promise<void> {
    this.#closing ??= this.nc.close().catch(() => {});
    return this.#closing;
  }

  /** Whether `close()` was called. */
  get closed(): boolean {
    return this.#closing !== undefined;
  }
}
