// The floor under a pipe's bandwidth (bench/pipe_bandwidth.ts): a bare
// `deno run` child connected to the parent over a Unix socket receives the
// same messages in the library's framing (a header, then the bytes), read
// as the library reads a large frame: straight from the socket into a fresh
// buffer of the message's own, which the receiver may keep (what
// `recvBytes` hands out). No hub, pipe host, flow control or inbox in
// between. The child checks each message as the pipe's sink does and acks
// with its count and checksum.
//
// With `reuse`, the child reads every message into one buffer instead,
// given back after each (the ceiling of what `recvBytesInto` can reach).
//
// This module is the child too: run with `--serve PATH COUNT SIZE [--reuse]`.

import { FrameReader, FrameWriter, HEADER } from "../_internal/wire/framing.ts";
import { decode, encodeSyncParts } from "../_internal/wire/codec.ts";
import { type Ack, checkAck, patternBuffer, receive, watchdogMs } from "./_pipe.ts";
import { watchdog } from "./_report.ts";
import { giveBackBuffer } from "../_internal/wire/spare_buffers.ts";

const PING = new Uint8Array([112, 105, 110, 103]);

/** Sends `body` as one message in the library's framing; resolves once written. */
function sendBytes(writer: FrameWriter, body: Uint8Array): Promise<void> {
  return writer.write(new Uint8Array(HEADER), body);
}

/** The child: echoes the ping, receives and checks `count` messages, acks. */
async function serve(path: string, count: number, size: number, reuse: boolean): Promise<void> {
  const conn = await Deno.connect({ transport: "unix", path });
  const reader = new FrameReader(conn), writer = new FrameWriter(conn);
  await sendBytes(writer, (await reader.next())!.slice());
  const ack: Ack = { bytes: 0, checksum: 0 };
  for (let k = 0; k < count; k++) {
    const frame = await reader.next();
    if (frame === null) throw new Error(`The floor's parent hung up at message ${k}`);
    // A message the reader's buffer held is copied, as the library's would be.
    receive(ack, k, reader.owned ? frame : frame.slice(), size);
    // The next message is read into this one's buffer.
    if (reuse) giveBackBuffer(frame);
  }
  await writer.write(encodeSyncParts(ack, HEADER)![0]);
  conn.close();
}

/**
 * One sample of the floor: starts a bare child, makes a ping's round trip,
 * then times `count` messages of `size` bytes to the ack, and checks it.
 * With `reuse`, the child reads every message into one buffer.
 *
 * @returns Milliseconds from the first send to the ack.
 */
export async function pipeFloorSample(
  count: number,
  size: number,
  reuse = false,
): Promise<number> {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/s`;
  const listener = Deno.listen({ transport: "unix", path });
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      "--no-config",
      import.meta.filename!,
      "--serve",
      path,
      `${count}`,
      `${size}`,
      ...(reuse ? ["--reuse"] : []),
    ],
  }).spawn();
  let conn: Deno.Conn | undefined;
  let ms: number, code: number;
  try {
    conn = await listener.accept();
    const reader = new FrameReader(conn), writer = new FrameWriter(conn);
    const run = async () => {
      await sendBytes(writer, PING);
      if ((await reader.next())?.join() !== PING.join()) {
        throw new Error("The ping came back wrong");
      }
      const buf = patternBuffer(size);
      const t0 = performance.now();
      for (let k = 0; k < count; k++) {
        new DataView(buf.buffer).setUint32(0, k, true);
        await sendBytes(writer, buf);
      }
      const frame = await reader.next();
      const ms = performance.now() - t0;
      if (frame === null) throw new Error("The floor's child exited without an ack");
      checkAck(decode(frame) as Ack, buf, count);
      return ms;
    };
    const limit = watchdogMs(count * size);
    ms = await watchdog(run(), limit, () => `The pipe floor hung: no ack after ${limit} ms`);
  } finally {
    conn?.close();
    listener.close();
    ({ code } = await child.status);
    await Deno.remove(dir, { recursive: true });
  }
  if (code !== 0) throw new Error(`The floor's child exited with ${code}`);
  return ms;
}

if (import.meta.main && Deno.args[0] === "--serve") {
  await serve(Deno.args[1], Number(Deno.args[2]), Number(Deno.args[3]), Deno.args[4] === "--reuse");
}
