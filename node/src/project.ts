/**
 * Project files (`trace.toml`): a project's choice among the user's own keys and models.
 * The rules of the Python side's `domain/project.py` (pure; finding and reading the file
 * is `config/project-files.ts`), checked against tests/shared/key-source-cases.json.
 *
 * A cloned repository is hostile until the user says otherwise: a project file may only
 * *select* (a provider, the name of one of the user's keys, a model), never hold a key
 * or a command, and it applies only once the user allowed that file with that content
 * (`buildwithtrace project allow`, recorded as path + SHA-256 in config.toml; the Node
 * SDK reads that record and never writes it). A changed file must be allowed again.
 */
import { InvalidInputError, InvalidModelError, ProjectFileError, UnknownProviderError } from "./errors.js";
import { parseKeyName } from "./keys.js";
import { type ProviderName, PROVIDERS, parseProvider } from "./provider.js";
import { looksLikeSecret, parseModelId } from "./secret.js";

/** The project file's name. */
export const PROJECT_FILE_NAME = "trace.toml";
/** The largest project file read. */
export const MAX_PROJECT_FILE_BYTES = 64 * 1024;
const TABLE = "llm";
const FIELDS = ["provider", "key_name", "model"] as const;
const COMMANDISH = /(helper|command|cmd|shell|exec|run|script|program)/i;
const SECRETISH = /(key|secret|token|password|credential|auth)/i;

/** Whether a found project file applies: allowed with this content, never allowed, changed since. */
export type ProjectState = "allowed" | "not_allowed" | "changed";

/** What a project file selects; each part optional (a model or key name needs a provider). */
export interface ProjectSelection {
  readonly provider: ProviderName | null;
  readonly keyName: string | null;
  readonly model: string | null;
}

/** A project file as found: its real path, the SHA-256 of its bytes (`sha256:<hex>`), its selection. */
export interface ProjectFile {
  readonly path: string;
  readonly digest: string;
  readonly selection: ProjectSelection;
}

/** A project file found for a request, and whether it applies. */
export interface ProjectUse {
  readonly path: string;
  readonly state: ProjectState;
  readonly selection: ProjectSelection;
}

/** `file` with its state for `allowed` (config.toml's `[projects.allowed]`: path → digest). */
export function projectUse(file: ProjectFile, allowed: Readonly<Record<string, string>>): ProjectUse {
  const recorded = Object.hasOwn(allowed, file.path) ? allowed[file.path] : undefined;
  const state: ProjectState = recorded === undefined ? "not_allowed" : recorded === file.digest ? "allowed" : "changed";
  return { path: file.path, state, selection: file.selection };
}

/** True when the user allowed this content. */
export function applies(project: ProjectUse | null | undefined): boolean {
  return project?.state === "allowed";
}

/** The directory holding the file (what `project allow` takes). */
export function projectDirectory(project: ProjectUse): string {
  const at = project.path.lastIndexOf("/");
  return at <= 0 ? "/" : project.path.slice(0, at);
}

/** Why the file is ignored, in a few words. */
export function ignoredReason(project: ProjectUse): string {
  return project.state === "changed" ? "changed since you allowed it" : "not allowed yet";
}

type Entry = readonly [where: string, name: string, value: unknown];

function isTable(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value) && !(value instanceof Date);
}

/**
 * The selection of a parsed `trace.toml`; throws `ProjectFileError` for anything more: a
 * key or a command anywhere (by name, or a value shaped like a key), an entry outside
 * `[llm]` provider / key_name / model, a value that is not a string, an unknown provider,
 * a bad key name or model, a key name or model without a provider, a key name or model
 * for Trace-hosted models.
 */
export function parseProjectDocument(document: Readonly<Record<string, unknown>>, path: string): ProjectSelection {
  for (const [where, name, value] of entries(document, [])) {
    if (typeof value === "string" && looksLikeSecret(value)) {
      throw new ProjectFileError(
        path,
        `${where} holds what looks like an API key; a project file never holds keys (it may only name one of yours)`,
      );
    }
    if ((FIELDS as readonly string[]).includes(name) && where === `${TABLE}.${name}`) continue;
    if (where === TABLE) {
      if (isTable(value)) continue;
      throw new ProjectFileError(path, `${TABLE} must be a table: [${TABLE}]`);
    }
    if (COMMANDISH.test(name)) {
      throw new ProjectFileError(
        path,
        `${where} looks like a command; a project file never holds commands ` +
          "(a cloned repository must not run code on your machine)",
      );
    }
    if (SECRETISH.test(name)) {
      throw new ProjectFileError(
        path,
        `${where} looks like a key; a project file never holds keys (it may only name one of yours with key_name)`,
      );
    }
    throw new ProjectFileError(path, `unknown entry ${where}`);
  }
  const table = (Object.hasOwn(document, TABLE) ? document[TABLE] : {}) as Record<string, unknown>;
  const values: Partial<Record<(typeof FIELDS)[number], string>> = {};
  for (const name of FIELDS) {
    const value = Object.hasOwn(table, name) ? table[name] : undefined;
    if (value === undefined || value === null) continue;
    if (typeof value !== "string") throw new ProjectFileError(path, `${TABLE}.${name} must be a string`);
    values[name] = value;
  }
  return selection(values, path);
}

function selection(values: Partial<Record<(typeof FIELDS)[number], string>>, path: string): ProjectSelection {
  let provider: ProviderName | null = null;
  if (values.provider !== undefined) {
    try {
      provider = parseProvider(values.provider);
    } catch (error) {
      if (!(error instanceof UnknownProviderError)) throw error;
      throw new ProjectFileError(path, `${TABLE}.provider must be one of: ${PROVIDERS.map((p) => p.name).join(", ")}`);
    }
  }
  let keyName: string | null = null;
  let model: string | null = null;
  if (values.key_name !== undefined) {
    try {
      keyName = parseKeyName(values.key_name);
    } catch (error) {
      if (!(error instanceof InvalidInputError)) throw error;
      throw new ProjectFileError(path, `${TABLE}.key_name: ${error.problem}`);
    }
  }
  if (values.model !== undefined) {
    try {
      model = parseModelId(values.model);
    } catch (error) {
      if (!(error instanceof InvalidModelError)) throw error;
      throw new ProjectFileError(path, `${TABLE}.model: ${error.problem}`);
    }
  }
  if (provider === null && (keyName !== null || model !== null)) {
    throw new ProjectFileError(path, `${TABLE}.key_name and ${TABLE}.model need ${TABLE}.provider`);
  }
  if (provider === "trace" && keyName !== null) throw new ProjectFileError(path, "Trace-hosted models take no key_name");
  if (provider === "trace" && model !== null) {
    throw new ProjectFileError(path, "Trace-hosted models take no model (Trace chooses it)");
  }
  return { provider, keyName, model };
}

/** (dotted path, name, value) of every entry, each table before what is inside it. */
function* entries(node: Readonly<Record<string, unknown>>, parents: readonly string[]): Generator<Entry> {
  for (const [name, value] of Object.entries(node)) {
    const where = [...parents, name].join(".");
    yield [where, name, value];
    if (isTable(value)) yield* entries(value, [...parents, name]);
    else if (Array.isArray(value)) {
      for (const [index, item] of value.entries()) {
        if (isTable(item)) yield* entries(item, [...parents, `${name}[${index}]`]);
        else yield [`${where}[${index}]`, name, item];
      }
    }
  }
}
