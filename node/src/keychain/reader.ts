/**
 * The OS keychain, read through `@napi-rs/keyring` in a worker thread, every call
 * bounded by a timeout (`TRACE_KEYCHAIN_TIMEOUT`, default 3 s) as on the Python side.
 *
 * A call that does not answer in time is abandoned: the worker is terminated (a
 * native call already running finishes on its own, bounded by D-Bus's reply timeout)
 * and the failure is remembered for `retryAfterMs`, so a program pays the timeout
 * once, not per call, and still notices a keychain that came back.
 */
import { Worker } from "node:worker_threads";

import { KeychainUnavailableError, StorageError } from "../errors.js";
import type { SecretReader } from "../config/credentials.js";
import type { StoredSecret } from "../resolution.js";
import { Secret } from "../secret.js";
import type { KeychainReply, KeychainRequest } from "./protocol.js";

const MAX_REASON = 200;
const NOBODY_HOME = "no Secret Service is running on the D-Bus session bus";

/** Options of a keychain reader. */
export interface KeychainOptions {
  /** The keychain service name (`TRACE_KEYCHAIN_SERVICE`, default `buildwithtrace`). */
  readonly service: string;
  /** How long one call may take, in milliseconds. */
  readonly timeoutMs: number;
  /** How long a failure is remembered before the keychain is tried again. */
  readonly retryAfterMs?: number;
  /** The environment, to tell "no bus configured" from "bus unreachable". */
  readonly env?: Readonly<Record<string, string | undefined>>;
}

interface Pending {
  readonly resolve: (reply: KeychainReply) => void;
  readonly reject: (error: Error) => void;
}

/** Reads keys the CLI stored in the OS keychain; never writes. */
export class KeychainSecretReader implements SecretReader {
  readonly #options: KeychainOptions;
  #worker: Worker | null = null;
  #nextId = 1;
  readonly #pending = new Map<number, Pending>();
  #failure: { reason: string; at: number } | null = null;

  constructor(options: KeychainOptions) {
    this.#options = options;
  }

  /** The keychain's secret for `account`; null when there is none. */
  async get(account: string): Promise<StoredSecret | null> {
    const failure = this.#failure;
    if (failure !== null) {
      if (Date.now() - failure.at < (this.#options.retryAfterMs ?? 30_000)) {
        throw new KeychainUnavailableError(failure.reason);
      }
      this.#failure = null;
    }
    const reply = await this.#call(account);
    if ("error" in reply) throw this.#translate(reply, account);
    // Wrapped as stored, not re-validated: a key another tool stored oddly is still the
    // user's key (as on the Python side).
    return reply.value ? { secret: new Secret(reply.value), source: "keychain" } : null;
  }

  /** Stop the worker thread (idempotent). */
  close(): void {
    const worker = this.#worker;
    this.#worker = null;
    if (worker !== null) void worker.terminate();
  }

  #call(account: string): Promise<KeychainReply> {
    const worker = this.#ready();
    const id = this.#nextId++;
    const request: KeychainRequest = { id, service: this.#options.service, account };
    return new Promise<KeychainReply>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        this.close(); // abandon it: the next call gets a fresh thread
        reject(this.#fail(`the keychain did not answer within ${seconds(this.#options.timeoutMs)}s`));
      }, this.#options.timeoutMs);
      timer.unref();
      this.#pending.set(id, {
        resolve: (reply) => {
          clearTimeout(timer);
          resolve(reply);
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      });
      worker.postMessage(request);
    });
  }

  #ready(): Worker {
    if (this.#worker !== null) return this.#worker;
    const worker = new Worker(new URL("./worker.js", import.meta.url));
    worker.on("message", (reply: KeychainReply) => {
      const pending = this.#pending.get(reply.id);
      this.#pending.delete(reply.id);
      pending?.resolve(reply);
    });
    worker.on("error", (error: Error) => {
      // The native module could not load (an unsupported platform), or the thread died.
      const reason = redact(`the keychain module failed (${error.message})`);
      this.#rejectAll(this.#fail(reason));
      if (this.#worker === worker) this.#worker = null;
    });
    worker.on("exit", () => {
      if (this.#worker === worker) this.#worker = null;
      this.#rejectAll(new KeychainUnavailableError("the keychain worker stopped"));
    });
    // After the listeners: attaching a message listener refs the port again, and an idle
    // keychain thread must never keep the program alive.
    worker.unref();
    this.#worker = worker;
    return worker;
  }

  #rejectAll(error: Error): void {
    const pending = [...this.#pending.values()];
    this.#pending.clear();
    for (const p of pending) p.reject(error);
  }

  #fail(reason: string): KeychainUnavailableError {
    this.#failure = { reason, at: Date.now() };
    return new KeychainUnavailableError(reason);
  }

  #translate(reply: { error: string; atEntry: boolean }, account: string): StorageError {
    const text = reply.error;
    const ambiguous = /matched by (\d+) credentials/.exec(text);
    if (ambiguous !== null) {
      // Never pick one at random: which one is the user's key cannot be known.
      return ambiguousEntry(this.#options.service, account, Number(ambiguous[1]));
    }
    return this.#fail(reason(text, this.#options.env ?? process.env));
  }
}

/** The error for an account the keychain holds more than once. */
export function ambiguousEntry(service: string, account: string, count: number): StorageError {
  const again = account.startsWith("llm:")
    ? `buildwithtrace byok set ${account.slice(4)}`
    : "buildwithtrace auth login";
  return new StorageError(
    `the OS keychain holds ${count} entries for service ${service}, account ${account}; ` +
      "which one is your key cannot be told, so none was used",
    `remove them (secret-tool clear service ${service} username ${account}), then store ` +
      `the key again: ${again}`,
  );
}

function reason(text: string, env: Readonly<Record<string, string | undefined>>): string {
  if (/DBUS_SESSION_BUS_ADDRESS|autolaunch/i.test(text) && !env["DBUS_SESSION_BUS_ADDRESS"]) {
    return "no D-Bus session (DBUS_SESSION_BUS_ADDRESS is unset)";
  }
  if (/org\.freedesktop\.secrets|ServiceUnknown|not provided by any \.service files/.test(text)) {
    return NOBODY_HOME;
  }
  if (/Failed to connect to socket|Connection refused|No such file or directory/i.test(text)) {
    return "cannot connect to the D-Bus session bus";
  }
  if (/locked/i.test(text)) return "the keychain is locked";
  if (/Did not receive a reply|timeout/i.test(text)) return "the keychain service did not answer";
  return redact(`the keychain refused the request (${text})`);
}

function redact(text: string): string {
  return text.length <= MAX_REASON ? text : text.slice(0, MAX_REASON - 1) + "…";
}

function seconds(ms: number): string {
  return String(Math.round(ms) / 1000);
}
