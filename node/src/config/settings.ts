/**
 * The non-secret settings in `config.toml`, read (never written) with the Python
 * side's rules (`adapters/settings/toml.py`): the file must be a regular file the user
 * owns in a trusted directory; invalid TOML, a known setting with a bad value, or a
 * value that looks like a key make the file corrupt, reported with its name.
 */
import { join } from "node:path";
import { parse, TomlError } from "smol-toml";

import { CorruptFileError, type TraceError } from "../errors.js";
import { type ProviderName, PROVIDERS, parseProvider } from "../provider.js";
import { looksLikeSecret, parseModelId } from "../secret.js";
import { pyRepr, pyStrip, isPrintable } from "../text.js";
import { CONFIG_FILE } from "./paths.js";
import { readChecked } from "./files.js";
import { InvalidSettingError } from "../errors.js";

/** Where secrets go: keychain else file, keychain only, or file only. */
export type StoreChoice = "auto" | "keychain" | "file";

/** Every non-secret setting the SDK reads; absent means "not set, use the default". */
export interface Settings {
  readonly activeProvider?: ProviderName | undefined;
  readonly models: Readonly<Partial<Record<ProviderName, string>>>;
  readonly backendEnv?: "production" | "local" | undefined;
  readonly apiVersion?: string | undefined;
  readonly credentialsStore?: StoreChoice | undefined;
}

/** Reads the settings; `load` may throw a `StorageError`. */
export interface SettingsReader {
  /** The current settings (defaults when there is no file). */
  load(): Promise<Settings>;
}

interface SettingKey {
  readonly name: string;
  readonly choices: readonly string[];
  readonly parse: (raw: string) => string;
}

function choice(name: string, choices: readonly string[]): SettingKey {
  return {
    name,
    choices,
    parse: (raw) => {
      const value = pyStrip(raw).toLowerCase();
      if (!choices.includes(value)) {
        throw new InvalidSettingError(`${pyRepr(raw)} is not one of: ${choices.join(", ")}`);
      }
      return value;
    },
  };
}

const BYOK = PROVIDERS.filter((p) => p.name !== "trace").map((p) => p.name);
const KEYS: readonly SettingKey[] = [
  { name: "llm.provider", choices: PROVIDERS.map((p) => p.name), parse: parseProvider },
  ...BYOK.map((p): SettingKey => ({ name: `llm.models.${p}`, choices: [], parse: parseModelId })),
  choice("backend.env", ["production", "local"]),
  {
    name: "backend.api_version",
    choices: [],
    parse: (raw) => {
      const value = pyStrip(raw);
      if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$/.test(value)) {
        throw new InvalidSettingError(`${pyRepr(raw)} is not an API version such as 'latest' or 'v1'`);
      }
      return value;
    },
  },
  choice("output.format", ["text", "json"]),
  choice("credentials.store", ["auto", "keychain", "file"]),
];

/** `config.toml` in the config directory. */
export class TomlSettingsReader implements SettingsReader {
  readonly #path: string;

  constructor(configDir: string) {
    this.#path = join(configDir, CONFIG_FILE);
  }

  /** The file's settings; throws `CorruptFileError` and the other `StorageError`s. */
  async load(): Promise<Settings> {
    const data = readChecked(this.#path, { private: false });
    if (data === null) return { models: {} };
    let text: string;
    try {
      text = new TextDecoder("utf-8", { fatal: true }).decode(data);
    } catch {
      throw this.#corrupt("it is not UTF-8 text");
    }
    let document: Record<string, unknown>;
    try {
      document = parse(text) as Record<string, unknown>;
    } catch (error) {
      // Position only: parser messages quote the file, which may hold a pasted key.
      const where = error instanceof TomlError ? ` at line ${error.line}, column ${error.column}` : "";
      throw this.#corrupt(`invalid TOML${where}`);
    }
    const flat = new Map<string, string>();
    for (const key of KEYS) {
      const raw = this.#find(document, key);
      if (raw !== undefined) flat.set(key.name, this.#validate(key, raw));
    }
    const models: Partial<Record<ProviderName, string>> = {};
    for (const provider of BYOK) {
      const model = flat.get(`llm.models.${provider}`);
      if (model !== undefined) models[provider] = model;
    }
    return {
      activeProvider: flat.get("llm.provider") as ProviderName | undefined,
      models,
      backendEnv: flat.get("backend.env") as Settings["backendEnv"],
      apiVersion: flat.get("backend.api_version"),
      credentialsStore: flat.get("credentials.store") as StoreChoice | undefined,
    };
  }

  #find(document: Record<string, unknown>, key: SettingKey): string | undefined {
    const parts = key.name.split(".");
    const leaf = parts.pop() ?? "";
    let node: Record<string, unknown> = document;
    for (const [index, part] of parts.entries()) {
      if (!Object.hasOwn(node, part)) return undefined;
      const next = node[part];
      if (typeof next !== "object" || next === null || Array.isArray(next) || next instanceof Date) {
        throw this.#corrupt(`${parts.slice(0, index + 1).join(".")} must be a table`);
      }
      node = next as Record<string, unknown>;
    }
    if (!Object.hasOwn(node, leaf)) return undefined;
    const value = node[leaf];
    if (typeof value !== "string") throw this.#corrupt(`${key.name} must be a string${allowed(key)}`);
    return value;
  }

  #validate(key: SettingKey, raw: string): string {
    if (looksLikeSecret(raw)) {
      throw this.#corrupt(
        `${key.name} holds what looks like an API key; keys belong in the secret ` +
          "store (buildwithtrace byok set --help)",
      );
    }
    try {
      return key.parse(raw);
    } catch (error) {
      const shown = [...raw].length <= 40 && [...raw].every(isPrintable) ? pyRepr(raw) : "this value";
      const reason = key.choices.length > 0 ? allowed(key) : `: ${(error as TraceError).problem}`;
      throw this.#corrupt(`${key.name} = ${shown} is not allowed${reason}`);
    }
  }

  #corrupt(detail: string): CorruptFileError {
    return new CorruptFileError(this.#path, detail);
  }
}

function allowed(key: SettingKey): string {
  return key.choices.length > 0 ? ` (one of: ${key.choices.join(", ")})` : "";
}

/** Settings held in memory (tests, and programs that must not touch the user's files). */
export class MemorySettingsStore implements SettingsReader {
  #settings: Settings;

  constructor(settings: Partial<Settings> = {}) {
    this.#settings = { models: {}, ...settings };
  }

  /** The current settings. */
  async load(): Promise<Settings> {
    return this.#settings;
  }

  /** Replace the settings. */
  set(settings: Partial<Settings>): void {
    this.#settings = { models: {}, ...settings };
  }
}
