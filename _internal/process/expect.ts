/**
 * Children that are starting: each is expected with a one-time ticket, and
 * the hub hands the connection that presents it to whoever waits.
 *
 * @module
 */

import type { Channel } from "../transport/channel.ts";
import { onHubMessage } from "../hub/hub.ts";

/** Tickets of children that are starting: the key each must prove, and who to hand it to. */
const tickets = new Map<string, { kid: string; claim(channel: Channel): void }>();

onHubMessage("hello", (channel, first, kid) => {
  const t = tickets.get(String(first.ticket));
  // A ticket is claimed once, with the key its child was given.
  if (!t || t.kid !== kid) return channel.close();
  tickets.delete(String(first.ticket));
  t.claim(channel);
});

/**
 * Registers a ticket for a child that proves the key with id `kid` (`""`:
 * the tree's own); the promise resolves with the channel of the child that
 * presents it. `cancel` forgets the ticket.
 */
export function expectChild(kid = ""): {
  ticket: string;
  connected: Promise<Channel>;
  cancel(): void;
} {
  const ticket = crypto.randomUUID();
  let cancel!: () => void;
  const connected = new Promise<Channel>((resolve) => {
    tickets.set(ticket, { kid, claim: resolve });
    cancel = () => tickets.delete(ticket);
  });
  return { ticket, connected, cancel };
}
