/**
 * Children that are starting: each is expected with a one-time ticket, and
 * the hub hands the connection that presents it to whoever waits.
 *
 * @module
 */

import type { Channel } from "../transport/channel.ts";
import { onHubMessage } from "../hub/hub.ts";

/** Tickets of children that are starting: who to hand their connection to. */
const tickets = new Map<string, (channel: Channel) => void>();

onHubMessage("hello", (channel, first) => {
  const claim = tickets.get(String(first.ticket));
  if (!claim) return channel.close();
  tickets.delete(String(first.ticket));
  claim(channel);
});

/**
 * Registers a ticket; the promise resolves with the channel of the child
 * that presents it. `cancel` forgets the ticket.
 */
export function expectChild(): {
  ticket: string;
  connected: Promise<Channel>;
  cancel(): void;
} {
  const ticket = crypto.randomUUID();
  let cancel!: () => void;
  const connected = new Promise<Channel>((resolve) => {
    tickets.set(ticket, resolve);
    cancel = () => tickets.delete(ticket);
  });
  return { ticket, connected, cancel };
}
