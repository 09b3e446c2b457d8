/**
 * `HelperKeys`: keys from helper commands, held in memory for a while, never written
 * anywhere (the Python side's `application/services/helper_keys.py`). A key is held per
 * (key, command, shell) for the TTL (`keys.helper_ttl`), or until 30 s before the
 * `expires_at` it was printed with, whichever comes first; a key already past that is
 * used for its request and not held. One run per key at a time: concurrent requests for
 * one key share a run. After the provider rejected a key, `refresh` forgets it and runs
 * the helper again.
 */
import { parseHelperOutput, type HelperReason } from "../keys.js";
import { type Credential, type PendingKey, pendingSource } from "../resolution.js";
import type { Secret } from "../secret.js";
import type { KeyHelper } from "./subprocess.js";

/** Seconds before `expires_at` at which a key is dropped (a request must not carry a dying key). */
export const EXPIRY_MARGIN = 30;

interface Held {
  readonly secret: Secret;
  readonly until: number;
}

/** Runs helpers through a `KeyHelper` and holds their keys in memory. */
export class HelperKeys {
  readonly #runner: KeyHelper;
  readonly #clock: () => number;
  readonly #ttl: number;
  readonly #held = new Map<string, Held>();
  readonly #busy = new Map<string, Promise<unknown>>();
  #runs = 0;

  /** `clock`: seconds since the epoch (default: the system clock); `ttl` in seconds. */
  constructor(options: { runner: KeyHelper; ttl: number; clock?: () => number }) {
    this.#runner = options.runner;
    this.#ttl = options.ttl;
    this.#clock = options.clock ?? ((): number => Date.now() / 1000);
  }

  /** How many times a helper ran. */
  get runs(): number {
    return this.#runs;
  }

  /** The key of `pending`'s helper: held if still fresh, else from a new run; throws `KeyHelperError`. */
  fetch(pending: PendingKey, reason: HelperReason): Promise<Credential> {
    const slot = slotOf(pending);
    return this.#exclusive(slot, async () => {
      const held = this.#held.get(slot);
      if (held !== undefined && this.#clock() < held.until) return credentialOf(pending, held.secret);
      return this.#run(pending, reason, slot);
    });
  }

  /** Forget the held key and run the helper again, whatever its age. */
  refresh(pending: PendingKey, reason: HelperReason): Promise<Credential> {
    const slot = slotOf(pending);
    return this.#exclusive(slot, async () => {
      this.#held.delete(slot);
      return this.#run(pending, reason, slot);
    });
  }

  /** Drop every key held for the key labelled `label` (`anthropic`, `openai:client-a`). */
  forget(label: string): void {
    for (const slot of [...this.#held.keys()]) {
      if ((JSON.parse(slot) as string[])[0] === label) this.#held.delete(slot);
    }
  }

  async #run(pending: PendingKey, reason: HelperReason, slot: string): Promise<Credential> {
    const output = await this.#runner.run(pending.helper, pending.ref, reason);
    this.#runs += 1;
    const found = parseHelperOutput(output, pending.ref);
    const now = this.#clock();
    let until = now + this.#ttl;
    if (found.expiresAt !== null) until = Math.min(until, found.expiresAt - EXPIRY_MARGIN);
    // Already past it: used for this request (clocks differ; the provider decides), never kept.
    if (until > now) this.#held.set(slot, { secret: found.secret, until });
    else this.#held.delete(slot);
    return credentialOf(pending, found.secret);
  }

  /** Run `work` after every earlier work on `slot` settled: one run per key at a time. */
  #exclusive<T>(slot: string, work: () => Promise<T>): Promise<T> {
    const before = this.#busy.get(slot) ?? Promise.resolve();
    const result = before.then(work, work);
    const settled = result.then(
      () => undefined,
      () => undefined,
    );
    this.#busy.set(slot, settled);
    void settled.then(() => {
      if (this.#busy.get(slot) === settled) this.#busy.delete(slot);
    });
    return result;
  }
}

function slotOf(pending: PendingKey): string {
  return JSON.stringify([pending.ref.label, pending.helper.command, pending.helper.shell]);
}

function credentialOf(pending: PendingKey, secret: Secret): Credential {
  const source = pendingSource(pending);
  return { provider: pending.ref.provider, secret, ...source };
}
