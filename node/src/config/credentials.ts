/**
 * `credentials.json`, the 0600 secrets file, read (never written) with the Python
 * side's rules (`adapters/secrets/file.py`): `{"version": 1, "secrets": {account: key}}`,
 * a 0600 file in a 0700 directory, both owned by the user; anything else is reported
 * with the file's name and left alone.
 */
import { join } from "node:path";

import { CorruptFileError, InvalidKeyError } from "../errors.js";
import type { StoredSecret } from "../resolution.js";
import { Secret } from "../secret.js";
import { pyRepr } from "../text.js";
import { CREDENTIALS_FILE } from "./paths.js";
import { readChecked } from "./files.js";

const FORMAT_VERSION = 1;

/** Reads one secret by account; `get` may throw a `StorageError`. */
export interface SecretReader {
  /** The secret for `account` with its source label, or null when there is none. */
  get(account: string): Promise<StoredSecret | null>;
}

/** The secrets file in the config directory. */
export class FileSecretReader implements SecretReader {
  readonly #path: string;

  constructor(configDir: string) {
    this.#path = join(configDir, CREDENTIALS_FILE);
  }

  /** The file's path. */
  get path(): string {
    return this.#path;
  }

  /** The secret for `account`; null when absent or when the file does not exist. */
  async get(account: string): Promise<StoredSecret | null> {
    const data = readChecked(this.#path, { private: true });
    if (data === null) return null;
    const secrets = this.#parse(data);
    const value = Object.hasOwn(secrets, account) ? secrets[account] : undefined;
    return value === undefined ? null : { secret: Secret.parse(value), source: "file" };
  }

  #parse(data: Buffer): Record<string, string> {
    if (/^[ \t\n\r\v\f]*$/.test(data.toString("latin1"))) throw this.#corrupt("the file is empty");
    let text: string;
    try {
      text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(data);
    } catch {
      throw this.#corrupt("it is not UTF-8 text");
    }
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch (error) {
      // Position only: a parser's message can quote the file, and the file holds secrets.
      const position = /position (\d+)/.exec(error instanceof Error ? error.message : "");
      throw this.#corrupt(position ? `invalid JSON at ${lineColumn(text, Number(position[1]))}` : "invalid JSON");
    }
    if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
      throw this.#corrupt("the top level is not a JSON object");
    }
    const version: unknown = (raw as Record<string, unknown>)["version"];
    if (typeof version !== "number" || !Number.isInteger(version) || version !== FORMAT_VERSION) {
      if (typeof version === "number" && Number.isInteger(version) && version > FORMAT_VERSION) {
        throw this.#corrupt(
          `format version ${version} is newer than this buildwithtrace understands (upgrade buildwithtrace)`,
        );
      }
      throw this.#corrupt(`"version" must be ${FORMAT_VERSION}`);
    }
    const secrets: unknown = (raw as Record<string, unknown>)["secrets"];
    if (
      typeof secrets !== "object" ||
      secrets === null ||
      Array.isArray(secrets) ||
      !Object.values(secrets).every((v) => typeof v === "string")
    ) {
      throw this.#corrupt('"secrets" must be an object of account name to string');
    }
    const checked = secrets as Record<string, string>;
    for (const [account, value] of Object.entries(checked)) {
      try {
        Secret.parse(value);
      } catch (error) {
        if (error instanceof InvalidKeyError) {
          throw this.#corrupt(`the secret stored for ${pyRepr(account)} is invalid`);
        }
        throw error;
      }
    }
    return checked;
  }

  #corrupt(detail: string): CorruptFileError {
    return new CorruptFileError(this.#path, detail);
  }
}

function lineColumn(text: string, position: number): string {
  const before = text.slice(0, position);
  const line = before.split("\n").length;
  const column = position - before.lastIndexOf("\n");
  return `line ${line} column ${column}`;
}

/** Secrets held in memory; their source label is `memory`. */
export class MemorySecretStore implements SecretReader {
  readonly #secrets = new Map<string, string>();

  constructor(initial: Readonly<Record<string, string>> = {}) {
    for (const [account, value] of Object.entries(initial)) this.#secrets.set(account, value);
  }

  /** The secret for `account`, or null. */
  async get(account: string): Promise<StoredSecret | null> {
    const value = this.#secrets.get(account);
    return value === undefined ? null : { secret: new Secret(value), source: "memory" };
  }

  /** Store `value` under `account` (memory only). */
  set(account: string, value: string): void {
    this.#secrets.set(account, value);
  }

  /** Remove `account`; true if it was there. */
  delete(account: string): boolean {
    return this.#secrets.delete(account);
  }
}
