/**
 * Seals on task modules: a pool worker imports only the modules its own
 * pool vouched for. The pool makes a random key and gives it to each worker
 * with its launch (its arguments, over the launch channel); each function
 * reference it sends carries a seal, HMAC-SHA256 of the key and the
 * module's URL. A task that names a module without its seal (one written
 * into the worker's pipe by anyone else) fails; nothing is imported. A seal
 * is checked once per module per worker.
 *
 * @module
 */

import { deriveKey, equalBytes } from "../transport/keys.ts";
import { fromHex, toHex } from "../base/hex.ts";
import type { TargetRef } from "../process/target.ts";

/** A fresh seal key, as hex (it travels in a worker's arguments, which stay JSON). */
export function newSealKey(): string {
  return toHex(crypto.getRandomValues(new Uint8Array(32)));
}

/** The seal of `module` under `key`. */
export function sealOf(key: string, module: string): string {
  return toHex(deriveKey(fromHex(key)!, "mp-pool-module", module));
}

/** A worker's check of the modules its tasks name. */
export class ModuleGate {
  #key: Uint8Array | undefined;
  #verified = new Set<string>();

  /** A gate for the key the worker was launched with. */
  constructor(key: string) {
    this.#key = fromHex(key);
  }

  /**
   * Checks a function reference's seal before its module is imported.
   *
   * @throws {TypeError} When its module was not vouched for by this worker's pool.
   */
  check(ref: TargetRef & { seal?: unknown }): void {
    if (this.#verified.has(ref.module)) return;
    const seal = fromHex(ref.seal);
    const ok = this.#key !== undefined && seal !== undefined &&
      equalBytes(seal, deriveKey(this.#key, "mp-pool-module", String(ref.module)));
    if (!ok) {
      throw new TypeError(
        `Cannot run task: its module ${
          String(ref.module).slice(0, 200)
        } was not sent by this worker's pool`,
      );
    }
    this.#verified.add(ref.module);
  }
}
