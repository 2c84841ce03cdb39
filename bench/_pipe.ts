// One sample of the pipe bandwidth (parent -> child, then an ack), for the
// side-by-side script (pipe_bandwidth.ts). Children import this module for
// their target, so it starts nothing at its top level.

import type { Connection } from "../connection/connection.ts";
import { EOFError } from "../_internal/base/errors.ts";
import { Pipe } from "../connection.ts";
import { Process, type StartMethod } from "../process.ts";
import { unsuppressed, watchdog } from "./_report.ts";

/** What the child acks: the bytes it received, and a checksum of the sampled ones. */
export interface Ack {
  bytes: number;
  checksum: number;
}

/** The byte at offset `j` of every message (bytes 0-3 then hold its index). */
export function patternByte(j: number): number {
  return (j ^ (j >>> 8) ^ (j >>> 16)) & 0xff;
}

/** The offsets checked in message `k` of `size` bytes: the index, then spread out. */
export function sampleOffsets(k: number, size: number): number[] {
  return [0, 1, 2, 3, 4, size >>> 2, size >>> 1, size - 1, 4 + ((k * 4099) % (size - 4))];
}

/** Folds the sampled bytes of message `k` into a running checksum (as the Python peer). */
export function foldChecksum(sum: number, k: number, msg: Uint8Array): number {
  for (const j of sampleOffsets(k, msg.length)) sum = (Math.imul(sum, 31) + msg[j] + 1) >>> 0;
  return sum;
}

/** Byte `j` of message `k` as sent. */
function expectedByte(k: number, j: number): number {
  return j < 4 ? (k >>> (8 * j)) & 0xff : patternByte(j);
}

/**
 * The child: echoes the ping, receives `count` messages of `size` bytes,
 * checks each (length, order, sampled bytes), then acks. A wrong message
 * throws: the child exits with 1 and its end closes, so the parent sees EOF.
 */
export async function sink(
  conn: Connection,
  count: number,
  size: number,
  into = false,
): Promise<void> {
  await conn.sendBytes(await conn.recvBytes());
  const ack: Ack = { bytes: 0, checksum: 0 };
  if (into) {
    // One buffer of the caller's, reused for every message.
    const buf = new Uint8Array(size);
    for (let k = 0; k < count; k++) {
      receive(ack, k, buf.subarray(0, await conn.recvBytesInto(buf)), size);
    }
  } else {
    for (let k = 0; k < count; k++) receive(ack, k, await conn.recvBytes(), size);
  }
  await conn.send(ack);
}

/** Checks message `k` (length, order, sampled bytes) and counts it in `ack`. */
export function receive(ack: Ack, k: number, msg: Uint8Array, size: number): void {
  if (msg.length !== size) {
    throw new Error(`Pipe corrupted message ${k}: ${msg.length} bytes, expected ${size}`);
  }
  for (const j of sampleOffsets(k, size)) {
    if (msg[j] !== expectedByte(k, j)) {
      throw new Error(
        `Pipe corrupted message ${k} at byte ${j}: ${msg[j]}, expected ${expectedByte(k, j)}`,
      );
    }
  }
  ack.bytes += msg.length;
  ack.checksum = foldChecksum(ack.checksum, k, msg);
}

/** Milliseconds a sample may take before it counts as hung: 2 MiB/s at worst. */
export function watchdogMs(bytes: number): number {
  return 30_000 + Math.ceil(bytes / 2 ** 21) * 1000;
}

/** Where a sample is, for the watchdog's message. */
interface Progress {
  phase: "start" | "ping" | "send" | "ack" | "join";
  sent: number;
}

/** The module a child imports for {@link sink}: this one. */
const MODULE = import.meta.url;
const PING = new Uint8Array([112, 105, 110, 103]);

/**
 * One sample: starts a {@link sink} child on a fresh Pipe, sends `count`
 * messages of `size` bytes, waits for the ack and checks it. Rejects loudly
 * on a wrong ack, a failed child or a hang (after {@link watchdogMs}).
 * With `into`, the child receives with `recvBytesInto` into one buffer.
 *
 * @returns Milliseconds from the first send to the ack.
 */
export function pipeSample(
  startMethod: StartMethod,
  count: number,
  size: number,
  into = false,
): Promise<number> {
  return unsuppressed(() => sample(startMethod, count, size, into));
}

/** A message of `size` bytes of the pattern (its index is stamped before each send). */
export function patternBuffer(size: number): Uint8Array {
  const buf = new Uint8Array(size);
  for (let j = 0; j < size; j++) buf[j] = patternByte(j);
  return buf;
}

async function sample(
  startMethod: StartMethod,
  count: number,
  size: number,
  into: boolean,
): Promise<number> {
  const buf = patternBuffer(size);
  const [a, b] = Pipe();
  // Disposed in reverse order, also after a hang: the child is terminated,
  // then both ends are closed (which ends a recv still waiting). The
  // parent keeps the child's end open until then: the pipe is hosted here,
  // and closing that end here would close it for the child too.
  await using here = a;
  await using there = b;
  await using p = new Process({
    target: sink,
    args: [there, count, size, into],
    module: MODULE,
    startMethod,
  });
  const progress: Progress = { phase: "start", sent: 0 };
  const work = transfer(here, p, buf, count, progress);
  const limit = watchdogMs(count * size);
  return await watchdog(
    work,
    limit,
    () =>
      `Pipe [${startMethod}] hung: no result after ${limit} ms, ` +
      `in phase '${progress.phase}', ${progress.sent}/${count} messages sent`,
  );
}

/**
 * One sample the other way: a {@link stream} child sends `count` messages
 * of `size` bytes once pinged, and this side receives each with
 * `recvBytesInto` into one buffer, and checks it.
 *
 * @returns Milliseconds from the ping to the last message received.
 */
export function pipeUpSample(
  startMethod: StartMethod,
  count: number,
  size: number,
): Promise<number> {
  return unsuppressed(async () => {
    const [a, b] = Pipe();
    await using here = a;
    await using there = b;
    await using p = new Process({
      target: stream,
      args: [there, count, size],
      module: MODULE,
      startMethod,
    });
    const progress = { received: 0 };
    const work = async () => {
      await p.start();
      const into = new Uint8Array(size);
      const ack: Ack = { bytes: 0, checksum: 0 };
      const t0 = performance.now();
      await here.sendBytes(PING);
      for (let k = 0; k < count; k++, progress.received++) {
        receive(ack, k, into.subarray(0, await here.recvBytesInto(into)), size);
      }
      const elapsed = performance.now() - t0;
      await p.join();
      if (p.exitCode !== 0) throw new Error(`The streaming child exited with ${p.exitCode}`);
      checkAck(ack, patternBuffer(size), count);
      return elapsed;
    };
    const limit = watchdogMs(count * size);
    return await watchdog(
      work(),
      limit,
      () =>
        `Pipe [${startMethod}] from the child hung: no result after ${limit} ms, ` +
        `${progress.received}/${count} messages received`,
    );
  });
}

/** The child of {@link pipeUpSample}: once pinged, sends `count` messages of the pattern, each stamped with its index. */
export async function stream(conn: Connection, count: number, size: number): Promise<void> {
  await conn.recvBytes();
  const buf = patternBuffer(size);
  for (let k = 0; k < count; k++) {
    new DataView(buf.buffer).setUint32(0, k, true);
    await conn.sendBytes(buf);
  }
}

async function transfer(
  here: Connection,
  p: Process,
  buf: Uint8Array,
  count: number,
  progress: Progress,
): Promise<number> {
  await p.start();
  progress.phase = "ping";
  await here.sendBytes(PING);
  const pong = await here.recvBytes();
  if (pong.join() !== PING.join()) throw new Error(`The ping came back as ${pong}`);

  progress.phase = "send";
  const t0 = performance.now();
  for (let k = 0; k < count; k++) {
    new DataView(buf.buffer).setUint32(0, k, true);
    // Reusing the buffer once sendBytes resolves, as Python's send_bytes
    // allows once it returns: a pipe that still read it later would fail
    // the child's checks.
    await here.sendBytes(buf);
    progress.sent++;
  }
  progress.phase = "ack";
  let ack: Ack;
  try {
    ack = await here.recv() as Ack;
  } catch (err) {
    if (!(err instanceof EOFError)) throw err;
    await p.join(5000);
    throw new Error(
      `Pipe [${p.name}]: no ack, the child exited with ${p.exitCode} (its error is above)`,
      { cause: err },
    );
  }
  const elapsed = performance.now() - t0;

  progress.phase = "join";
  await p.join();
  if (p.exitCode !== 0) throw new Error(`The sink child exited with ${p.exitCode}`);
  checkAck(ack, buf, count);
  return elapsed;
}

/** Throws unless `ack` is what `count` messages of `buf` (index stamped) add up to. */
export function checkAck(ack: Ack, buf: Uint8Array, count: number): void {
  let checksum = 0;
  for (let k = 0; k < count; k++) {
    new DataView(buf.buffer).setUint32(0, k, true);
    checksum = foldChecksum(checksum, k, buf);
  }
  const bytes = count * buf.length;
  if (ack?.bytes !== bytes || ack.checksum !== checksum) {
    throw new Error(
      `The child acked ${JSON.stringify(ack)}, expected ${JSON.stringify({ bytes, checksum })}`,
    );
  }
}
