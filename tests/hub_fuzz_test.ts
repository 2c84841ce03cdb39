// Fuzzing the object server (issue #12, item 1): after a valid handshake,
// thousands of random and mutated frames to this process's hub and to a
// manager, over Unix sockets and TCP; the host must stay alive and go on
// serving a legitimate client. Seeded: FUZZ_SEED=<n> replays a run, and a
// failure prints the seed.
import { assert, assertEquals } from "@std/assert";
import { Event, Lock, Manager, Pipe, Process, Queue, Semaphore } from "../mod.ts";
import { JoinableQueue } from "../queue.ts";
import { TO_DESCRIPTOR } from "../_internal/base/symbols.ts";
import { state } from "../_internal/base/state.ts";
import type { Address } from "../_internal/transport/address.ts";
import { expireSessions } from "../_internal/hub/sessions.ts";
import { BytesMessage, encodeSync, loadV8 } from "../_internal/wire/codec.ts";
import { produce } from "./fixtures/queue_targets.ts";
import { START_METHODS } from "./_helpers.ts";
import { type RawClient, rawClient } from "./_raw.ts";

const SEED = Number(Deno.env.get("FUZZ_SEED") ?? crypto.getRandomValues(new Uint32Array(1))[0]);
const DEBUG = Deno.env.get("FUZZ_DEBUG") === "1";
const QUEUE_TARGETS = new URL("./fixtures/queue_targets.ts", import.meta.url).href;
/** Frames per target; and a time bound, whichever comes first. */
const FRAMES = 2000;
const BUDGET_MS = 2000;

/** mulberry32: a small seeded generator. */
function generator(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** What a fuzzer knows of a host: its objects, and the methods they have. */
interface Target {
  address: Address;
  authkey: Uint8Array;
  /** Object ids; the first answers {@link Target.probe}. */
  ids: string[];
  methods: string[];
  /** A method of the first object that answers at once. */
  probe: string;
}

/** Request ids of probes: above those the fuzzer makes up. */
const PROBE = 2_000_000;

const METHODS = [
  "put",
  "putMany",
  "get",
  "ack",
  "ackMany",
  "ackRuns",
  "nack",
  "qsize",
  "full",
  "close",
  "closed",
  "taskDone",
  "join",
  "sync",
  "send",
  "sendBytes",
  "attach",
  "room",
  "consumed",
  "acquire",
  "release",
  "releaseAll",
  "value",
  "set",
  "clear",
  "isSet",
  "wait",
  "notify",
  "abort",
  "reset",
  "nWaiting",
  "broken",
  "create",
  "incref",
  "adopt",
  "decref",
  "count",
  "types",
  "keys",
  "items",
  "len",
  "pop",
  "append",
  "splice",
  "toArray",
  "update",
  "increment",
  "setdefault",
  "slice",
  "__proto__",
  "constructor",
  "toString",
  "hasOwnProperty",
];

class Fuzzer {
  #r: () => number;
  constructor(readonly target: Target, seed: number) {
    this.#r = generator(seed);
  }

  int(n: number): number {
    return Math.floor(this.#r() * n);
  }

  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)];
  }

  chance(p: number): boolean {
    return this.#r() < p;
  }

  /** A random JSON-shaped value (sometimes deep, sometimes odd). */
  value(depth = 0): unknown {
    const k = this.int(depth > 3 ? 6 : 10);
    switch (k) {
      case 0:
        return null;
      case 1:
        return this.pick([0, 1, -1, 2 ** 53, -(2 ** 31), 1e308, 0.5, 7]);
      case 2:
        return this.pick(["", "x", "put", "__proto__", "constructor", "1", "a".repeat(300)]);
      case 3:
        return this.chance(0.5);
      case 4:
        return this.pick(this.target.ids);
      case 5:
        return this.int(1000);
      case 6:
      case 7:
        return Array.from({ length: this.int(5) }, () => this.value(depth + 1));
      default: {
        const o: Record<string, unknown> = {};
        for (let i = this.int(5); i > 0; i--) {
          o[this.pick(["r", "o", "m", "a", "b", "c", "end", "p", "x", "__proto__", "op"])] = this
            .value(depth + 1);
        }
        return o;
      }
    }
  }

  /** A value only the structured-clone encoding carries. */
  odd(): unknown {
    return this.pick<() => unknown>([
      () => new Map([[this.value(), this.value()]]),
      () => new Set([this.value()]),
      () => new Date(this.int(1e12)),
      () => BigInt(this.int(1e9)) ** 3n,
      () => new Uint8Array(this.int(64)),
      () => NaN,
      () => undefined,
      () => -0,
      () => new Error("x"),
      () => [undefined, NaN, new Map()],
    ])();
  }

  /** A call, valid in shape or close to it. */
  call(): Record<string, unknown> {
    const m: Record<string, unknown> = {
      o: this.chance(0.9) ? this.pick(this.target.ids) : String(this.value()),
      m: this.chance(0.85) ? this.pick(this.target.methods) : this.value(),
      a: Array.from({ length: this.int(4) }, () => this.chance(0.85) ? this.value() : this.odd()),
    };
    if (this.chance(0.6)) m.r = this.chance(0.9) ? 1 + this.int(1e6) : this.value();
    // Mutations: a field dropped, retyped, or added.
    if (this.chance(0.2)) delete m[this.pick(["o", "m", "a", "r"])];
    if (this.chance(0.2)) m[this.pick(["o", "m", "a", "r", "c"])] = this.value();
    if (this.chance(0.05)) m[this.pick(["zz", "b", "end"])] = this.value();
    return m;
  }

  /** One frame's message, or raw payload bytes. */
  message(): unknown | { raw: Uint8Array } {
    const k = this.int(100);
    if (k < 45) return this.call();
    if (k < 55) {
      const b = Array.from(
        { length: 1 + this.int(20) },
        () => this.chance(0.9) ? this.call() : this.value(),
      );
      return { b };
    }
    if (k < 60) return { c: this.chance(0.8) ? 1 + this.int(1e6) : this.value() };
    if (k < 63) return this.pick([{ end: true }, { end: 1 }, { end: true, o: "1" }]);
    if (k < 73) return this.value();
    if (k < 80) return this.chance(0.5) ? this.odd() : { ...this.call(), a: [this.odd()] };
    if (k < 86) {
      return new BytesMessage(
        this.chance(0.7) ? this.call() : this.value(),
        new Uint8Array(this.int(100)),
      );
    }
    if (k < 90) return this.deep();
    const raw = new Uint8Array(1 + this.int(200)).map(() => this.int(256));
    if (this.chance(0.7)) raw[0] = this.pick([0x4a, 0x56, 0x42]); // J, V, B: a tag, then garbage
    return { raw };
  }

  /** Deep nesting: arrays, objects, or batches inside batches. */
  deep(): unknown {
    const depth = this.pick([100, 5000, 100_000]);
    const kind = this.int(3);
    let v: unknown = kind === 2 ? { o: "1", m: "qsize" } : 0;
    for (let i = 0; i < depth; i++) v = kind === 0 ? [v] : kind === 1 ? { a: v } : { b: [v] };
    return kind === 2 ? v : { o: this.pick(this.target.ids), m: "put", a: [v] };
  }

  /** The first message of a connection: mostly "attach", sometimes anything. */
  first(): unknown {
    if (this.chance(0.85)) return { op: "attach", ident: `fuzz-${this.int(100)}` };
    return this.pick<() => unknown>([
      () => ({ op: "attach", ident: this.value() }),
      () => ({ op: "attach", ident: "fuzz", session: this.value() }),
      () => ({ op: "hello", ticket: this.value() }),
      () => ({ op: this.value() }),
      () => this.value(),
      () => ({ op: "manager" }),
    ])();
  }
}

/** Frames a payload (as the wire does: a 4-byte length, then the bytes). */
function frame(payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + payload.length);
  new DataView(out.buffer).setUint32(0, payload.length);
  out.set(payload, 4);
  return out;
}

/** Sends `FRAMES` frames (or for `BUDGET_MS`) over as many connections as it takes. */
async function fuzz(
  target: Target,
  seed: number,
): Promise<{ frames: number; connections: number }> {
  await loadV8();
  const f = new Fuzzer(target, seed);
  const open: RawClient[] = [];
  let raw: RawClient | undefined;
  let frames = 0, connections = 0;
  const end = performance.now() + BUDGET_MS;
  try {
    while (frames < FRAMES && performance.now() < end) {
      if (!raw || raw.isClosed()) {
        raw = await rawClient(target.address, target.authkey);
        open.push(raw);
        connections++;
        const first = f.first();
        await raw.send(first);
        if ((first as { op?: unknown })?.op !== "attach") {
          // Not an object client: it is answered (or closed), and serves nothing more.
          await raw.until(() => true);
          raw.close();
          frames++;
          continue;
        }
      }
      const m = f.message();
      let bytes: Uint8Array | undefined;
      if (m && typeof m === "object" && "raw" in m && m.raw instanceof Uint8Array) bytes = m.raw;
      else {
        try {
          bytes = encodeSync(m);
        } catch { /* too deep to encode here: send a deep JSON text instead */ }
        bytes ??= new TextEncoder().encode("J" + "[".repeat(100_000) + "]".repeat(100_000));
      }
      if (DEBUG) console.error(frames, Deno.inspect(m, { depth: 3 }).slice(0, 300));
      await raw.write(frame(bytes));
      frames++;
      // A probe behind it: once it is answered (or the connection closed),
      // the host has dealt with the frame.
      const r = PROBE + frames;
      await raw.send({ r, o: target.ids[0], m: target.probe });
      await raw.until((v) => (v as { r?: number })?.r === r);
      if (DEBUG) {
        console.error(
          "  <-",
          Deno.inspect(raw.received.slice(-3), { depth: 2 }).slice(0, 400),
          raw.isClosed(),
        );
      }
      if (open.length > 8) open.shift()!.close();
    }
  } finally {
    for (const c of open) c.close();
    await Promise.all(open.map((c) => c.closed));
  }
  return { frames, connections };
}

async function withSeed(name: string, fn: (seed: number) => Promise<void>): Promise<void> {
  // The seed of each target is derived from the run's, so one replays all.
  const seed = (SEED ^ [...name].reduce((h, c) => Math.imul(h, 31) + c.charCodeAt(0), 7)) >>> 0;
  try {
    await fn(seed);
  } catch (err) {
    throw new Error(`Fuzzing failed: replay with FUZZ_SEED=${SEED}`, { cause: err });
  }
}

for (const transport of ["unix", "tcp"] as const) {
  Deno.test(`hub: random and mutated frames after the handshake leave this process serving [${transport}]`, async () => {
    console.error(`FUZZ_SEED=${SEED}`);
    const s = state();
    const before = s.transport;
    s.transport = transport;
    try {
      await withSeed(`hub-${transport}`, async (seed) => {
        await using q = new Queue<unknown>();
        await using bounded = new Queue<unknown>(2);
        await using joinable = new JoinableQueue<unknown>();
        const [a, b] = Pipe();
        await using lock = new Lock();
        await using event = new Event();
        await using sem = new Semaphore(2);
        const handles = [q, bounded, joinable, a, b, lock, event, sem];
        const ds = await Promise.all(handles.map((h) => h[TO_DESCRIPTOR]()));
        const target: Target = {
          address: ds[0].address,
          authkey: s.authkey,
          ids: ds.map((d) => d.id),
          methods: METHODS,
          probe: "qsize",
        };
        const { frames, connections } = await fuzz(target, seed);
        console.error(`${frames} frames over ${connections} connections`);
        assert(frames > 0);
        expireSessions();
        a.close();
        b.close();
        // A legitimate client, of either start method, on a fresh queue.
        for (const startMethod of START_METHODS) {
          await using fresh = new Queue<number>();
          await using p = new Process({
            target: produce,
            args: [fresh, 3],
            module: QUEUE_TARGETS,
            startMethod,
          });
          await p.start();
          assertEquals([await fresh.get(), await fresh.get(), await fresh.get()], [0, 1, 2]);
          await p.join();
          assertEquals(p.exitCode, 0);
        }
      });
    } finally {
      s.transport = before;
    }
  });

  Deno.test(`Manager: random and mutated frames after the handshake leave it serving [${transport}]`, async () => {
    console.error(`FUZZ_SEED=${SEED}`);
    await withSeed(`manager-${transport}`, async (seed) => {
      await using m = await Manager.start(transport === "tcp" ? { address: { port: 0 } } : {});
      const d = await m.dict<string, number>({ a: 1 });
      const l = await m.list([1, 2]);
      const q = await m.Queue<number>();
      const lock = await m.Lock();
      const v = await m.Value("i", 1);
      const ns = await m.Namespace({ x: 1 });
      // The registry's id: what a client asks for first.
      await using probe = await rawClient(m.address as Address, m.authkey);
      await probe.send({ op: "manager" });
      while (probe.received.length === 0 && !probe.isClosed()) {
        await new Promise((r) => setTimeout(r, 5));
      }
      const registry = (probe.received[0] as { registry: string }).registry;
      const ids = [registry, d.id, l.id, ns.id, v.id];
      for (const h of [q, lock]) ids.push((await h[TO_DESCRIPTOR]()).id);
      const target: Target = {
        address: m.address as Address,
        authkey: m.authkey,
        ids,
        // Shutting the manager down is a key holder's right, not a malformed frame.
        methods: METHODS.filter((x) => x !== "shutdown"),
        probe: "count",
      };
      const { frames, connections } = await fuzz(target, seed);
      console.error(`${frames} frames over ${connections} connections`);
      assertEquals(m.exitCode, null, "the manager died");
      const fresh = await m.dict<string, string>({ still: "serving" });
      assertEquals(await fresh.get("still"), "serving");
      assert(await m.liveObjects() > 0);
    });
  });
}
