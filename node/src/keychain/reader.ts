/**
 * The OS keychain, read through `@napi-rs/keyring` in a helper process, every call
 * bounded by a timeout (`TRACE_KEYCHAIN_TIMEOUT`, default 3 s) as on the Python side.
 *
 * A call that does not answer in time is abandoned: the helper is killed (whatever
 * native call it was stuck in) and the failure is remembered for `retryAfterMs`, so a
 * program pays the timeout once, not per call, and still notices a keychain that came
 * back. The helper is started on first use and kept (unreferenced) for later reads.
 */
import { type ChildProcess, fork } from "node:child_process";

import { KeychainUnavailableError, StorageError } from "../errors.js";
import type { SecretReader } from "../config/credentials.js";
import { KeyRef } from "../keys.js";
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
}

interface Pending {
  readonly resolve: (reply: KeychainReply) => void;
  readonly reject: (error: Error) => void;
}

/** Reads keys the CLI stored in the OS keychain; never writes. */
export class KeychainSecretReader implements SecretReader {
  readonly #options: KeychainOptions;
  #worker: ChildProcess | null = null;
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

  /** Stop the helper process (idempotent). */
  close(): void {
    const worker = this.#worker;
    this.#worker = null;
    if (worker !== null && worker.exitCode === null) worker.kill("SIGKILL");
  }

  #call(account: string): Promise<KeychainReply> {
    const worker = this.#ready();
    const id = this.#nextId++;
    const request: KeychainRequest = { id, service: this.#options.service, account };
    // Referenced while a call waits (the caller awaits it), unreferenced when idle.
    setReferenced(worker, true);
    const settled = (): void => {
      if (this.#pending.size === 0) setReferenced(worker, false);
    };
    return new Promise<KeychainReply>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        this.close(); // abandon it: the next call gets a fresh thread
        reject(this.#fail(`the keychain did not answer within ${seconds(this.#options.timeoutMs)}s`));
      }, this.#options.timeoutMs);
      this.#pending.set(id, {
        resolve: (reply) => {
          clearTimeout(timer);
          settled();
          resolve(reply);
        },
        reject: (error) => {
          clearTimeout(timer);
          settled();
          reject(error);
        },
      });
      worker.send(request);
    });
  }

  #ready(): ChildProcess {
    if (this.#worker !== null) return this.#worker;
    // execArgv: []: flags of the main program (--input-type, loaders) mean nothing there.
    const worker = fork(new URL("./worker.js", import.meta.url), [], {
      execArgv: [],
      stdio: ["ignore", "ignore", "ignore", "ipc"],
      serialization: "json",
    });
    worker.on("message", (reply: KeychainReply) => {
      const pending = this.#pending.get(reply.id);
      this.#pending.delete(reply.id);
      pending?.resolve(reply);
    });
    worker.on("error", (error: Error) => {
      const reason = redact(`the keychain helper failed (${error.message})`);
      if (this.#worker === worker) this.#worker = null;
      this.#rejectAll(this.#fail(reason));
    });
    worker.on("exit", (code) => {
      if (this.#worker !== worker) return; // killed on purpose (timeout, close)
      this.#worker = null;
      // The native module could not load (an unsupported platform), or the helper died.
      this.#rejectAll(this.#fail(`the keychain helper stopped (exit ${code ?? "signal"})`));
    });
    setReferenced(worker, false); // an idle helper must never keep the program alive
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
    return this.#fail(reason(text, process.env));
  }
}

/** The error for an account the keychain holds more than once. */
export function ambiguousEntry(service: string, account: string, count: number): StorageError {
  // A named key's account is llm:<provider>:<name>: its command takes --name.
  const again = account.startsWith("llm:") ? KeyRef.ofLabel(account.slice(4)).setCommand : "buildwithtrace auth login";
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

function setReferenced(child: ChildProcess, on: boolean): void {
  if (on) {
    child.ref();
    child.channel?.ref();
  } else {
    child.unref();
    child.channel?.unref();
  }
}

function seconds(ms: number): string {
  return String(Math.round(ms) / 1000);
}
