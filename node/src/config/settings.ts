/**
 * The non-secret settings in `config.toml`, read (never written) with the Python
 * side's rules (`adapters/settings/toml.py`, `toml_keys.py`): the file must be a regular
 * file the user owns in a trusted directory; invalid TOML, a known setting with a bad
 * value, a key section we cannot use, or a value that looks like a key make the file
 * corrupt, reported with its name and the same words.
 */
import { join } from "node:path";
import { parse, TomlError } from "smol-toml";

import { CorruptFileError, InvalidInputError, InvalidSettingError, type TraceError } from "../errors.js";
import { type HelperCommand, parseKeyName } from "../keys.js";
import type { EnvOverridePolicy } from "../notices.js";
import { type ProviderName, PROVIDERS, parseProvider } from "../provider.js";
import { looksLikeSecret, parseModelId } from "../secret.js";
import { pyRepr, pyStrip, isPrintable } from "../text.js";
import { CONFIG_FILE } from "./paths.js";
import { readChecked } from "./files.js";
import { pyFloatText, readKeySections } from "./key-sections.js";

/** Where secrets go: keychain else file, keychain only, or file only. */
export type StoreChoice = "auto" | "keychain" | "file";

/** The default seconds a helper's key is held in memory (`keys.helper_ttl`). */
export const DEFAULT_HELPER_TTL = 300;
/** The default seconds a helper may run (`keys.helper_timeout`). */
export const DEFAULT_HELPER_TIMEOUT = 60;
const MAX_HELPER_TTL = 24 * 3600;
const MAX_HELPER_TIMEOUT = 600;

/** Every non-secret setting the SDK reads; absent means "not set, use the default". */
export interface Settings {
  readonly activeProvider?: ProviderName | undefined;
  readonly models: Readonly<Partial<Record<ProviderName, string>>>;
  readonly backendEnv?: "production" | "local" | undefined;
  readonly apiVersion?: string | undefined;
  readonly credentialsStore?: StoreChoice | undefined;
  /** The named key each provider uses (`llm.key_names.<P>`, written by `byok use P --name N`). */
  readonly keyNames?: Readonly<Partial<Record<ProviderName, string>>> | undefined;
  /** `keys.env_override`: `warn` (the default) or `error`. */
  readonly envOverride?: EnvOverridePolicy | undefined;
  /** `keys.helper_ttl`, in seconds (default 300). */
  readonly helperTtl?: number | undefined;
  /** `keys.helper_timeout`, in seconds (default 60). */
  readonly helperTimeout?: number | undefined;
  /** Helper commands by key label (`anthropic`, `openai:client-a`): `[keys.P]`, `[keys.P.NAME]`. */
  readonly helpers?: Readonly<Record<string, HelperCommand>> | undefined;
  /** The named keys config.toml lists, by label (`anthropic:work`). */
  readonly namedKeys?: readonly string[] | undefined;
  /** Project files the user allowed: real path → `sha256:<hex>` (`[projects.allowed]`). */
  readonly allowedProjects?: Readonly<Record<string, string>> | undefined;
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

// Python's float(): digits with single inner underscores, inf/infinity/nan, no hex.
const PY_FLOAT = /^[+-]?(?:(?:\d(?:_?\d)*(?:\.(?:\d(?:_?\d)*)?)?|\.\d(?:_?\d)*)(?:[eE][+-]?\d(?:_?\d)*)?|inf(?:inity)?|nan)$/i;

function seconds(name: string, most: number): SettingKey {
  return {
    name,
    choices: [],
    parse: (raw) => {
      const text = pyStrip(raw);
      let value = -1;
      if (PY_FLOAT.test(text)) {
        const bare = text.replaceAll("_", "").toLowerCase().replace(/^([+-]?)inf(inity)?$/, "$1Infinity");
        value = /nan$/.test(bare) ? Number.NaN : Number(bare);
      }
      if (!(value > 0 && value <= most)) {
        throw new InvalidSettingError(`${pyRepr(raw)} is not a number of seconds in (0, ${most}]`);
      }
      return String(value);
    },
  };
}

const BYOK = PROVIDERS.filter((p) => p.name !== "trace").map((p) => p.name);
// In the Python registry's order (domain/settings.py SETTING_KEYS): the first bad entry
// is the one both SDKs report.
const KEYS: readonly SettingKey[] = [
  { name: "llm.provider", choices: PROVIDERS.map((p) => p.name), parse: parseProvider },
  ...BYOK.map((p): SettingKey => ({ name: `llm.models.${p}`, choices: [], parse: parseModelId })),
  ...BYOK.map((p): SettingKey => ({ name: `llm.key_names.${p}`, choices: [], parse: settingKeyName })),
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
  choice("keys.env_override", ["warn", "error"]),
  seconds("keys.helper_ttl", MAX_HELPER_TTL),
  seconds("keys.helper_timeout", MAX_HELPER_TIMEOUT),
];
// Numbers read like the strings a write leaves (`helper_ttl = 300` is "300").
const NUMBERS = new Set(["keys.helper_ttl", "keys.helper_timeout"]);

function settingKeyName(raw: string): string {
  try {
    return parseKeyName(raw);
  } catch (error) {
    if (error instanceof InvalidInputError) throw new InvalidSettingError(error.problem, error.fix);
    throw error;
  }
}

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
      document = parse(text, { integersAsBigInt: true }) as Record<string, unknown>;
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
    const keyNames: Partial<Record<ProviderName, string>> = {};
    for (const provider of BYOK) {
      const model = flat.get(`llm.models.${provider}`);
      if (model !== undefined) models[provider] = model;
      const name = flat.get(`llm.key_names.${provider}`);
      if (name !== undefined) keyNames[provider] = name;
    }
    const number = (name: string): number | undefined => {
      const value = flat.get(name);
      return value === undefined ? undefined : Number(value);
    };
    return {
      activeProvider: flat.get("llm.provider") as ProviderName | undefined,
      models,
      backendEnv: flat.get("backend.env") as Settings["backendEnv"],
      apiVersion: flat.get("backend.api_version"),
      credentialsStore: flat.get("credentials.store") as StoreChoice | undefined,
      keyNames,
      envOverride: flat.get("keys.env_override") as EnvOverridePolicy | undefined,
      helperTtl: number("keys.helper_ttl"),
      helperTimeout: number("keys.helper_timeout"),
      ...readKeySections(document, (detail) => this.#corrupt(detail)),
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
    let value = node[leaf];
    if (NUMBERS.has(key.name) && (typeof value === "number" || typeof value === "bigint")) {
      value = typeof value === "bigint" ? value.toString() : pyFloatText(value);
    }
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
