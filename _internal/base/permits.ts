/**
 * Permissions in one go: before the library does something that needs
 * permissions (open its hub, spawn a child), it asks Deno which of them are
 * granted (`querySync`: never a prompt, never a request) and, when some are
 * missing, throws one `NotCapable` error listing every missing flag with
 * what it is for, and the command line that has them all. Without this, a
 * first program fails three times in a row (write, then net, then run),
 * each time with a stack from inside the library.
 *
 * @module
 */

/** A permission an action needs, and why, for the message. */
export interface Need {
  /** The flag that grants it (`--allow-write`). */
  flag: `--allow-${Deno.PermissionName}`;
  /** What to ask Deno about. */
  descriptor: Deno.PermissionDescriptor;
  /** What it is for ("to make its private socket directory in /tmp"). */
  why: string;
}

/** The needs Deno does not grant now. */
export function missingNeeds(needs: Need[]): Need[] {
  return needs.filter((n) => {
    try {
      return Deno.permissions.querySync(n.descriptor).state !== "granted";
    } catch {
      return false; // A descriptor this Deno does not know: let the action say.
    }
  });
}

/**
 * Throws one `Deno.errors.NotCapable` naming every missing flag of `needs`,
 * when any is missing.
 *
 * @throws {Deno.errors.NotCapable} When a permission is missing.
 */
export function requirePermissions(action: string, needs: Need[]): void {
  const missing = missingNeeds(needs);
  if (missing.length === 0) return;
  const width = Math.max(...missing.map((n) => n.flag.length));
  const lines = missing.map((n) => `  ${n.flag.padEnd(width)}  ${n.why}`);
  const flags = [...new Set(missing.map((n) => n.flag))];
  const all = [...new Set([...granted(needs), ...flags])].sort(byKind).join(" ");
  throw new Deno.errors.NotCapable(
    `Cannot ${action}: this program lacks ${
      flags.length === 1 ? "a permission" : "permissions"
    } it needs for that:\n${lines.join("\n")}\n` +
      `Run it with them, for example: deno run ${all} ${mainScript()} (or -A for all)`,
  );
}

function granted(needs: Need[]): string[] {
  const missing = new Set(missingNeeds(needs));
  return needs.filter((n) => !missing.has(n)).map((n) => n.flag);
}

const ORDER = ["read", "write", "net", "env", "sys", "run", "ffi", "import"];

function byKind(a: string, b: string): number {
  return ORDER.indexOf(a.slice(8)) - ORDER.indexOf(b.slice(8));
}

function mainScript(): string {
  try {
    return decodeURIComponent(new URL(Deno.mainModule).pathname.split("/").pop() || "main.ts");
  } catch {
    return "main.ts";
  }
}
