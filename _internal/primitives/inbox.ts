/**
 * A connection's inbox: messages waiting to be received, in order, then
 * end-of-file. `poll` looks without taking, so it never sees a partial
 * message: a message is in the inbox whole or not at all.
 *
 * @module
 */

import { abortable, raceTimer } from "../base/async.ts";
import { placementArrived, placing } from "../wire/placements.ts";

/**
 * One received message: a value from `send`, or bytes from `sendBytes`;
 * `size` is what it counts for in its pipe's flow control. `json` says the
 * value was found exact JSON at its send, and nothing has changed it since
 * (it went at once, or was taken): it is not walked again.
 */
export type Message =
  | { value: unknown; bytes?: undefined; size?: number; json?: boolean }
  | { bytes: Uint8Array; value?: undefined; size?: number };

/** Returned once the inbox is drained and its sender is gone. */
export const EOF: unique symbol = Symbol("eof");

/** Messages in order, then EOF. */
export class MessageInbox {
  #items: Message[] = [];
  #head = 0;
  #ended = false;
  #waiters: (() => void)[] = [];
  /** Called with each message received (taken by its reader). */
  onTake: ((m: Message) => void) | undefined;
  /** A reader's buffer, offered for the next bytes message (see {@link MessageInbox.offer}). */
  #room: Uint8Array | undefined;
  /** What {@link MessageInbox.place} handed out last. */
  #placed: Uint8Array | undefined;
  /** What was placed and has not arrived yet, and what arrived meanwhile (held back behind it). */
  #inflight: Uint8Array | undefined;
  #held: Message[] = [];

  /** Adds a message. */
  push(m: Message): void {
    if (this.#ended) return;
    // While a message is read into the reader's buffer, what arrives from
    // elsewhere waits behind it: the reader takes that one first.
    if (this.#inflight && m.bytes !== this.#inflight) return void this.#held.push(m);
    if (this.#inflight) placementArrived(this.#inflight);
    this.#inflight = undefined;
    this.#items.push(m, ...this.#held.splice(0));
    this.#wake();
  }

  /** No more messages will come. */
  end(): void {
    this.#unplace(this.#inflight);
    this.#ended = true;
    this.#wake();
  }

  /** The message being read into `view` will not come: what waited behind it goes on. */
  #unplace(view: Uint8Array | undefined): void {
    if (!view || view !== this.#inflight) return;
    this.#inflight = undefined;
    this.#items.push(...this.#held.splice(0));
    this.#wake();
  }

  /** Whether it has ended (drained or not). */
  get ended(): boolean {
    return this.#ended;
  }

  #wake(): void {
    for (const w of this.#waiters.splice(0)) w();
  }

  /** The next message without taking it, EOF, or undefined when none is there yet. */
  peek(): Message | typeof EOF | undefined {
    if (this.#head < this.#items.length) return this.#items[this.#head];
    return this.#ended ? EOF : undefined;
  }

  /**
   * Takes the message {@link MessageInbox.peek} returned; `received`: by
   * its reader (false when it is passed on to a reader elsewhere).
   */
  take(received = true): void {
    const m = this.#items[this.#head];
    this.#items[this.#head++] = undefined as unknown as Message;
    if (received && m) this.onTake?.(m);
    if (this.#head > 1024 && this.#head * 2 > this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
  }

  /**
   * Offers `room`, a reader's own buffer, for the next message's bytes while
   * the reader waits with nothing here: a transport that reads a large one
   * from a socket may read it straight in (see {@link MessageInbox.place}).
   * One offer at a time.
   *
   * @returns A function that withdraws the offer, unless taken.
   */
  offer(room: Uint8Array): () => void {
    if (this.#room || this.peek() !== undefined) return () => {};
    this.#room = room;
    return () => {
      if (this.#room === room) this.#room = undefined;
    };
  }

  /**
   * Where the next message's `n` bytes may be read, when they are bytes
   * about to be pushed here and nothing else is to come before them: the
   * start of the room offered, if nothing waits here and they fit. Taken
   * once.
   */
  place(n: number): Uint8Array | undefined {
    const room = this.#room;
    if (!room || n > room.length || this.peek() !== undefined) return undefined;
    this.#room = undefined;
    const view = this.#placed = this.#inflight = room.subarray(0, n);
    placing(view, () => this.#unplace(view));
    return view;
  }

  /** Whether `bytes` are what {@link MessageInbox.place} handed out: in the reader's buffer already. */
  placed(bytes: Uint8Array): boolean {
    if (bytes !== this.#placed) return false;
    this.#placed = undefined;
    return true;
  }

  /**
   * Resolves true once a message (or EOF) is there, false after `timeout`
   * ms (null: wait as long as it takes).
   */
  ready(timeout: number | null, signal?: AbortSignal): Promise<boolean> {
    if (this.peek() !== undefined) return Promise.resolve(true);
    if (timeout === 0) return Promise.resolve(false);
    if (signal?.aborted) return Promise.reject(signal.reason);
    let waiter!: () => void;
    const arrived = new Promise<boolean>((resolve) => {
      waiter = () => resolve(true);
      this.#waiters.push(waiter);
    });
    return abortable(raceTimer(arrived, timeout ?? undefined, () => false), signal).finally(() => {
      const i = this.#waiters.indexOf(waiter);
      if (i >= 0) this.#waiters.splice(i, 1);
    });
  }
}
