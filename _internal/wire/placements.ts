/**
 * Reader's buffers handed out for a message still being read into them
 * (`MessageInbox.place`), and what to do if that message never reaches
 * the reader: its connection broke mid-read, or it was not delivered. The
 * inbox then lets go of what it held back behind it.
 *
 * @module
 */

const pending = new WeakMap<Uint8Array, () => void>();

/**
 * Records that a message is being read into `view`; `unplaced` runs if it
 * never arrives (see {@link placementEnded}).
 *
 * @param view Where its bytes go.
 * @param unplaced What to do if they never arrive.
 */
export function placing(view: Uint8Array, unplaced: () => void): void {
  pending.set(view, unplaced);
}

/**
 * The message read into `view` arrived, or never will: runs what
 * {@link placing} left for the second case, unless it arrived (and said
 * so with {@link placementArrived}) first. For anything else, nothing.
 *
 * @param view A message's bytes.
 */
export function placementEnded(view: Uint8Array): void {
  const unplaced = pending.get(view);
  pending.delete(view);
  unplaced?.();
}

/**
 * The message read into `view` reached its reader.
 *
 * @param view Its bytes.
 */
export function placementArrived(view: Uint8Array): void {
  pending.delete(view);
}
