/**
 * Names of everything a cluster keeps on the NATS server, derived from the
 * cluster's name: one work-queue stream for tasks (one subject per pool),
 * its shared pull consumer, a key-value bucket for results and one for
 * shared state (agents' heartbeats, queues' closed flags), a stream per
 * queue, a dead-letter stream and a stream that keeps JetStream's
 * max-deliveries advisories for submitters that were disconnected when
 * they were sent.
 *
 * @module
 */

const NAME = /^[A-Za-z0-9_-]{1,64}$/;

/**
 * Checks a cluster or queue name: it becomes part of stream and subject
 * names, so only letters, digits, `_` and `-`.
 *
 * @throws {TypeError} Otherwise.
 */
export function checkName(what: string, name: unknown): string {
  if (typeof name !== "string" || !NAME.test(name)) {
    throw new TypeError(
      `Cannot use ${what}: its name must be 1 to 64 letters, digits, '_' or '-', received '${
        String(name)
      }'`,
    );
  }
  return name;
}

/** The names of one cluster's streams, subjects, consumers and buckets. */
export interface Names {
  cluster: string;
  tasksStream: string;
  /** Subject of one pool's tasks. */
  tasksSubject(pool: string): string;
  /** Every pool's tasks: the consumer's filter. */
  tasksFilter: string;
  /** The shared durable pull consumer of the tasks. */
  consumer: string;
  resultsBucket: string;
  metaBucket: string;
  deadStream: string;
  /** Dead-letter subject for things taken from `source` ("tasks", "q.<name>"). */
  deadSubject(source: string): string;
  eventsStream: string;
  /** The advisory JetStream sends when a task message ran out of deliveries. */
  maxDeliveriesAdvisory: string;
  queueStream(queue: string): string;
  queueSubject(queue: string): string;
  /** Where a closed queue's stream listens: no put reaches it any more. */
  queueClosedSubject(queue: string): string;
  /** Prefix of every queue stream's name. */
  queueStreamPrefix: string;
}

/** The names of the cluster `cluster` (already checked). */
export function namesOf(cluster: string): Names {
  const tasksStream = `MP_${cluster}_TASKS`;
  const consumer = "workers";
  return {
    cluster,
    tasksStream,
    tasksSubject: (pool) => `mp.${cluster}.tasks.${pool}`,
    tasksFilter: `mp.${cluster}.tasks.>`,
    consumer,
    resultsBucket: `MP_${cluster}_RESULTS`,
    metaBucket: `MP_${cluster}_META`,
    deadStream: `MP_${cluster}_DEAD`,
    deadSubject: (source) => `mp.${cluster}.dead.${source}`,
    eventsStream: `MP_${cluster}_EVENTS`,
    maxDeliveriesAdvisory: `$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.${tasksStream}.${consumer}`,
    queueStream: (q) => `MP_${cluster}_Q_${q}`,
    queueSubject: (q) => `mp.${cluster}.q.${q}`,
    queueClosedSubject: (q) => `mp.${cluster}.qclosed.${q}`,
    queueStreamPrefix: `MP_${cluster}_Q_`,
  };
}

/** A random id of `n` lower-case letters and digits (ids in subjects and keys). */
export function randomId(n = 12): string {
  const bytes = crypto.getRandomValues(new Uint8Array(n));
  return Array.from(bytes, (b) => "abcdefghijklmnopqrstuvwxyz0123456789"[b % 36]).join("");
}
