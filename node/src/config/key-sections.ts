/**
 * The structured parts of config.toml (the Python side's `adapters/settings/toml_keys.py`),
 * read with the same words when an entry cannot be used (the file is then corrupt):
 *
 *     [keys.anthropic]                 # the provider's default key: from a helper
 *     helper = "op read op://Private/Anthropic/credential"
 *     shell = false                    # true: run through /bin/sh -c
 *
 *     [keys.anthropic.work]            # a named key; its secret is account llm:anthropic:work
 *     [keys.openai.client-a]           # ... or a helper prints it
 *     helper = "vault kv get -field=key secret/client-a/openai"
 *
 *     [projects.allowed]               # project files the user allowed, and their content
 *     "/home/me/client-a/trace.toml" = "sha256:9f86d0..."
 *
 * Other entries are left alone (the CLI keeps them; the Node SDK never writes the file).
 */
import type { CorruptFileError } from "../errors.js";
import { InvalidInputError } from "../errors.js";
import { HelperCommand, KeyRef, parseKeyName } from "../keys.js";
import { PROVIDERS } from "../provider.js";

const DIGEST = /^sha256:[0-9a-f]{64}$/;

/** The key sections of a parsed file. */
export interface KeySections {
  readonly helpers: Readonly<Record<string, HelperCommand>>;
  readonly namedKeys: readonly string[];
  readonly allowedProjects: Readonly<Record<string, string>>;
}

type Corrupt = (detail: string) => CorruptFileError;

function isTable(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value) && !(value instanceof Date);
}

function get(table: Record<string, unknown>, name: string): unknown {
  return Object.hasOwn(table, name) ? table[name] : undefined;
}

/** `helpers`, `namedKeys` and `allowedProjects` of a parsed config.toml. */
export function readKeySections(document: Record<string, unknown>, corrupt: Corrupt): KeySections {
  const helpers: Record<string, HelperCommand> = {};
  const named: string[] = [];
  const keys = get(document, "keys") ?? {};
  if (!isTable(keys)) throw corrupt("keys must be a table");
  for (const { name: provider } of PROVIDERS.filter((p) => p.name !== "trace")) {
    const table = get(keys, provider);
    if (table === undefined) continue;
    const where = `keys.${provider}`;
    if (!isTable(table)) throw corrupt(`${where} must be a table`);
    const own = helperOf(table, where, corrupt);
    if (own !== null) helpers[provider] = own;
    for (const [name, entry] of Object.entries(table)) {
      if (!isTable(entry)) continue; // a leaf (helper, shell) or an unknown value: kept as it is
      let ref: KeyRef;
      try {
        ref = new KeyRef(provider, parseKeyName(name));
      } catch (error) {
        if (!(error instanceof InvalidInputError)) throw error;
        throw corrupt(`${where} has a table that is not a key name`);
      }
      if (ref.name !== name) throw corrupt(`${where} has a table that is not a key name`);
      named.push(ref.label);
      const helper = helperOf(entry, `${where}.${name}`, corrupt);
      if (helper !== null) helpers[ref.label] = helper;
    }
  }
  return { helpers, namedKeys: named, allowedProjects: allowed(document, corrupt) };
}

function helperOf(table: Record<string, unknown>, where: string, corrupt: Corrupt): HelperCommand | null {
  const command = get(table, "helper");
  const shell = get(table, "shell") ?? false;
  if (command === undefined) return null;
  if (typeof command !== "string") throw corrupt(`${where}.helper must be a string`);
  if (typeof shell !== "boolean") throw corrupt(`${where}.shell must be true or false`);
  try {
    return HelperCommand.parse(command, shell);
  } catch (error) {
    if (!(error instanceof InvalidInputError)) throw error;
    throw corrupt(`${where}.helper is not usable: ${error.problem}`);
  }
}

function allowed(document: Record<string, unknown>, corrupt: Corrupt): Record<string, string> {
  const projects = get(document, "projects") ?? {};
  if (!isTable(projects)) throw corrupt("projects must be a table");
  const table = get(projects, "allowed") ?? {};
  if (!isTable(table)) throw corrupt("projects.allowed must be a table");
  const found: Record<string, string> = {};
  for (const [path, digest] of Object.entries(table)) {
    if (typeof digest !== "string" || !DIGEST.test(digest)) {
      throw corrupt("projects.allowed holds a value that is not sha256:HEX");
    }
    Object.defineProperty(found, path, { value: digest, enumerable: true, writable: false });
  }
  return found;
}

/** Python's `str(float)`: `300.0`, `1e+16`, `1.5e-05`, `inf`, `nan` (for the same error words). */
export function pyFloatText(value: number): string {
  if (Number.isNaN(value)) return "nan";
  if (!Number.isFinite(value)) return value > 0 ? "inf" : "-inf";
  if (value === 0) return Object.is(value, -0) ? "-0.0" : "0.0";
  const sign = value < 0 ? "-" : "";
  const [mantissa = "0", exponent = "0"] = Math.abs(value).toExponential().split("e");
  const digits = mantissa.replace(".", "");
  const exp = Number(exponent);
  if (exp >= 16 || exp < -4) {
    const rest = digits.slice(1);
    return `${sign}${digits[0]}${rest ? "." + rest : ""}e${exp < 0 ? "-" : "+"}${String(Math.abs(exp)).padStart(2, "0")}`;
  }
  if (exp < 0) return `${sign}0.${"0".repeat(-exp - 1)}${digits}`;
  const whole = digits.slice(0, exp + 1).padEnd(exp + 1, "0");
  const fraction = digits.slice(exp + 1) || "0";
  return `${sign}${whole}.${fraction}`;
}
