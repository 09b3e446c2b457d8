/**
 * Which secret store the SDK reads, by the CLI's rules (`credentials.store` /
 * `TRACE_CREDENTIALS_STORE`): `file` reads only credentials.json; `keychain` only the
 * OS keychain; `auto` the keychain, then the 0600 file when the keychain is unusable
 * or has no entry (a key stored during a keychain outage lives in the file).
 */
import { FileSecretReader, type SecretReader } from "./config/credentials.js";
import type { Settings, StoreChoice } from "./config/settings.js";
import { InvalidSettingError, KeychainUnavailableError } from "./errors.js";
import { KeychainSecretReader } from "./keychain/reader.js";
import type { StoredSecret } from "./resolution.js";
import { nonBlank } from "./text.js";

/** The variable that chooses the store. */
export const STORE_ENV = "TRACE_CREDENTIALS_STORE";
const DEFAULT_SERVICE = "buildwithtrace";
const DEFAULT_TIMEOUT_S = 3;

type Env = Readonly<Record<string, string | undefined>>;

/** The keychain first; the file when the keychain cannot be used or has no entry. */
export class FallbackSecretReader implements SecretReader {
  readonly #primary: SecretReader;
  readonly #fallback: SecretReader;

  constructor(primary: SecretReader, fallback: SecretReader) {
    this.#primary = primary;
    this.#fallback = fallback;
  }

  /** Only an unusable keychain leads to the file; any other storage error stops the read. */
  async get(account: string): Promise<StoredSecret | null> {
    let found: StoredSecret | null;
    try {
      found = await this.#primary.get(account);
    } catch (error) {
      if (error instanceof KeychainUnavailableError) return this.#fallback.get(account);
      throw error;
    }
    return found ?? this.#fallback.get(account);
  }
}

/** `TRACE_CREDENTIALS_STORE`, else the `credentials.store` setting, else `auto`. */
export function storeChoice(env: Env, settings: Settings): StoreChoice {
  const raw = nonBlank(env[STORE_ENV])?.toLowerCase();
  if (raw !== undefined) {
    if (raw === "auto" || raw === "keychain" || raw === "file") return raw;
    throw new InvalidSettingError(
      `${STORE_ENV}='${raw}' is not one of: auto, keychain, file`,
      `export ${STORE_ENV}=auto`,
    );
  }
  return settings.credentialsStore ?? "auto";
}

/** The keychain service name: `TRACE_KEYCHAIN_SERVICE`, else `buildwithtrace`. */
export function keychainService(env: Env): string {
  return nonBlank(env["TRACE_KEYCHAIN_SERVICE"]) ?? DEFAULT_SERVICE;
}

/** Seconds per keychain call: `TRACE_KEYCHAIN_TIMEOUT` within (0, 60], else 3. */
export function keychainTimeout(env: Env): number {
  const raw = nonBlank(env["TRACE_KEYCHAIN_TIMEOUT"]);
  const value = raw === undefined ? DEFAULT_TIMEOUT_S : Number(raw);
  return Number.isFinite(value) && value > 0 && value <= 60 ? value : DEFAULT_TIMEOUT_S;
}

/** The store the CLI would use for this environment and settings (read side only). */
export function secretReaderFor(
  choice: StoreChoice,
  env: Env,
  configDir: string,
  keychain: () => KeychainSecretReader,
): SecretReader {
  const file = new FileSecretReader(configDir);
  if (choice === "file") return file;
  if (choice === "keychain") return keychain();
  return new FallbackSecretReader(keychain(), file);
}

/**
 * A keychain reader configured from the environment (service, timeout). The keychain
 * itself is reached through the process's own `DBUS_SESSION_BUS_ADDRESS`: the native
 * library reads the real environment, which an `env` option cannot change.
 */
export function keychainFromEnv(env: Env): KeychainSecretReader {
  return new KeychainSecretReader({
    service: keychainService(env),
    timeoutMs: keychainTimeout(env) * 1000,
  });
}
