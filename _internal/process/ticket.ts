/**
 * Tickets: what a subprocess child finds on its command line (the parent
 * hub's address, and a one-time id with the task without its arguments,
 * or the mark of a task on stdin), and the markers a compiled binary is
 * started with as a child or a reaper.
 *
 * @module
 */

import type { TaskSpec } from "./task_spec.ts";

/** First argument of a compiled binary started as a child (`standalone.ts`). */
export const CHILD_MARKER = "--deno-multiprocessing-child";

/** First argument of a compiled binary started as a reaper (`reaper_main.ts`). */
export const REAPER_MARKER = "--deno-multiprocessing-reaper";

/**
 * Ticket on a subprocess child's command line: that of a child that
 * connects back, or that of a child started cold.
 */
export type Ticket = ConnectTicket | ColdTicket;

/** What every ticket holds first. */
interface TicketBase {
  /**
   * The parent's pid, first: the parent's reaper finds the children to kill
   * by the prefix {@link ticketPrefix} on their command lines.
   */
  ppid: number;
}

/** The ticket of a child that connects back: the hub's address and a one-time id. */
export interface ConnectTicket extends TicketBase {
  /** The parent hub's address, as `addressToString` writes it. */
  address: string;
  /** The id the parent waits for. */
  ticket: string;
  /** The task without its arguments: enough to start importing early. */
  boot?: TaskSpec;
  stdin?: undefined;
}

/**
 * The ticket of a cold start: the task follows the key on stdin, and the
 * child reports its start on stderr (`start_report.ts`) instead of
 * connecting back. No address: it connects to its parent's hub for
 * nothing (a handle it is given names its host), so its start opens none.
 */
export interface ColdTicket extends TicketBase {
  stdin: true;
}

/** How every ticket of the children of `ppid` begins. */
export function ticketPrefix(ppid: number): string {
  return `{"ppid":${ppid},`;
}

/** Encodes a ticket for a command line. */
export function encodeTicket(t: Ticket): string {
  // Plain JSON: no shell is involved, and a fresh process's first atob()
  // costs it ~4 ms.
  return JSON.stringify(t);
}

/** Decodes a ticket; a process started without one is told what this module is. */
export function decodeTicket(s: string | undefined): Ticket {
  try {
    return JSON.parse(s ?? "");
  } catch {
    console.error(
      "deno-multiprocessing: this module is the child entry; it is started by the library",
    );
    Deno.exit(2);
  }
}
