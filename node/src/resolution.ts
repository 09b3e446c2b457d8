/**
 * Which provider, key and model a request uses, and where each came from: the rules of
 * DESIGN section 3 as data and pure functions (the same table as the Python SDK's
 * `domain/resolution.py`; tests/shared/resolution-cases.json holds the shared cases).
 *
 * Two orders: the SDK order picks the source that names the provider; the CLI order
 * (`env`, `helper`, `store`) finds that provider's key, looking at the **chosen key**
 * only: a project file's `key_name` for its own provider, else the name remembered per
 * provider (`byok use P --name N`), else the provider's default key. A chosen name that
 * has no key is an error, never a fall back to another key (another bill).
 */
import { AmbiguousCredentialError, MissingKeyError, MissingNamedKeyError } from "./errors.js";
import { type HelperCommand, KeyRef } from "./keys.js";
import type { Notice } from "./notices.js";
import type { ProjectUse } from "./project.js";
import { type BillingMode, type ProviderName, isByok, parseProvider, providerSpec } from "./provider.js";
import { Secret, parseModelId } from "./secret.js";
import { nonBlank } from "./text.js";

/** A source that may name the provider (and key, model) for a request. */
export type SelectionOrigin = "argument" | "env" | "client" | "project" | "config";
/** Where the model was chosen. */
export type ModelSource = "argument" | "env" | "project" | "config" | "default";
/** The kind of place a key came from (a custom `SecretReader`'s own label counts as stored). */
export type SourceKind = "env" | "argument" | "helper" | "keychain" | "file" | "memory" | (string & {});

/** The SDK order, first wins: per call, `TRACE_LLM_*`, constructor defaults, an allowed project file, the store. */
export const SDK_ORDER: readonly SelectionOrigin[] = ["argument", "env", "client", "project", "config"];
/** Who may choose a named key for a provider, first wins: the project file (its provider only), then `byok use --name`. */
export const KEY_NAME_ORDER: readonly SelectionOrigin[] = ["project", "config"];
/** The CLI order for a provider's key: its env vars, then the chosen key's helper, then its stored secret. */
export const CLI_ORDER = ["env", "helper", "store"] as const;

/** The SDK's environment variables. */
export const SDK_ENV = {
  provider: "TRACE_LLM_PROVIDER",
  key: "TRACE_LLM_API_KEY",
  model: "TRACE_LLM_MODEL",
} as const;

/**
 * A key with where it came from. `source` is the label: `env:NAME`, `argument`, `helper`,
 * `keychain`, `file`, `memory`, and for a named key `helper:NAME`, `keychain:NAME`...
 */
export interface Credential {
  readonly provider: ProviderName;
  readonly secret: Secret;
  readonly source: string;
  /** The kind of source (`env`, `helper`, `keychain`...). */
  readonly kind: SourceKind;
  /** The named key's name; null for a provider's default key (and env or argument keys). */
  readonly keyName: string | null;
}

/** A secret as a store returned it, with the store's source label. */
export interface StoredSecret {
  readonly secret: Secret;
  readonly source: string;
}

/** Where a key comes from, without the key: a credential's or a pending helper's. */
export type KeySource = Pick<Credential, "source" | "kind" | "keyName">;

/** A helper command wins for this key but has not run: its key is not known yet. */
export interface PendingKey {
  readonly ref: KeyRef;
  readonly helper: HelperCommand;
}

/** The source of the key a pending helper will print (`helper`, `helper:NAME`). */
export function pendingSource(pending: PendingKey): KeySource {
  const name = pending.ref.name;
  return { source: name === null ? "helper" : `helper:${name}`, kind: "helper", keyName: name };
}

/** True for the user's own key (stored, or from a helper): what an environment variable displaces. */
export function isStored(source: KeySource): boolean {
  return source.kind !== "env" && source.kind !== "argument";
}

/** What one source says: each part possibly absent. */
export interface Selection {
  readonly origin: SelectionOrigin;
  readonly provider?: ProviderName | undefined;
  readonly key?: Secret | undefined;
  readonly model?: string | undefined;
  /** The named key this source chooses for its provider (project file only). */
  readonly keyName?: string | undefined;
  /** Who chose that name, for messages (the project file's path). */
  readonly chosenBy?: string | undefined;
}

/** Provider, key and model as a caller gives them (a call's options or constructor defaults). */
export interface LlmChoice {
  llmProvider?: string | null | undefined;
  llmApiKey?: string | null | undefined;
  llmModelId?: string | null | undefined;
}

/** The outcome of the CLI order for one provider: the winner, or the helper that will supply it. */
export interface KeyLookup {
  readonly provider: ProviderName;
  readonly winner: Credential | null;
  readonly pending: PendingKey | null;
  readonly shadowed: readonly string[];
  /** The named key looked at, and who chose it. */
  readonly keyName: string | null;
  readonly chosenBy: string | null;
}

/** The provider, key and model a request will use, and where each came from. */
export interface Resolution {
  readonly provider: ProviderName;
  /** The key and its source; null for Trace-hosted requests. */
  readonly credential: Credential | null;
  readonly model: string | null;
  readonly modelSource: ModelSource;
  /** The source that decided the provider. */
  readonly origin: SelectionOrigin;
  readonly billing: BillingMode;
  /** Where the key came from, or null (the same as `credential?.source`). */
  readonly keySource: string | null;
  /** At most the key's last four characters, or null. */
  readonly maskedKey: string | null;
  /** The project file found for the request's directory, and whether it applied; null if none. */
  readonly project: ProjectUse | null;
  /** The source label of your own key an environment variable displaced (e.g. `keychain`), or null. */
  readonly overrides: string | null;
  /** What a chat tells before sending this request (`env_override`, `project_ignored`). */
  readonly notices: readonly Notice[];
}

/** A resolution before its helper ran (`pending`) and before overrides were computed. */
export interface Decision {
  readonly provider: ProviderName;
  readonly credential: Credential | null;
  readonly pending: PendingKey | null;
  readonly model: string | null;
  readonly modelSource: ModelSource;
  readonly origin: SelectionOrigin;
}

const PROVIDER_HINT: Record<SelectionOrigin, string> = {
  argument: "llm_provider=",
  client: "llm_provider= in Trace(...)",
  env: SDK_ENV.provider,
  project: "provider in trace.toml",
  config: "buildwithtrace byok use",
};
const WHERE: Record<SelectionOrigin, string> = {
  argument: "the call",
  client: "the client's defaults",
  env: SDK_ENV.key,
  project: "the project file",
  config: "the stored settings",
};

/**
 * A caller's choice as a validated selection; blank values count as not given.
 * Returns undefined when nothing is given.
 */
export function toSelection(choice: LlmChoice | undefined, origin: SelectionOrigin): Selection | undefined {
  const provider = nonBlankRaw(choice?.llmProvider);
  const key = nonBlankRaw(choice?.llmApiKey);
  const model = nonBlankRaw(choice?.llmModelId);
  if (provider === undefined && key === undefined && model === undefined) return undefined;
  return parseSelection(origin, provider, key, model);
}

/** Validate raw provider, key and model strings into a selection (in this order, as Python). */
export function parseSelection(
  origin: SelectionOrigin,
  provider: string | undefined,
  key: string | undefined,
  model: string | undefined,
): Selection {
  const parsed = provider === undefined ? undefined : parseProvider(provider);
  return {
    origin,
    provider: parsed,
    key: key === undefined ? undefined : Secret.parse(key, parsed ?? null),
    model: model === undefined ? undefined : parseModelId(model),
  };
}

/** `TRACE_LLM_*` as a selection (blank counts as unset; values trimmed). */
export function environmentSelection(env: Readonly<Record<string, string | undefined>>): Selection {
  return parseSelection(
    "env",
    nonBlank(env[SDK_ENV.provider]),
    nonBlank(env[SDK_ENV.key]),
    nonBlank(env[SDK_ENV.model]),
  );
}

/** What the CLI order looks at besides the environment: the chosen key's helper and stored secret. */
export interface ChosenKey {
  readonly helper?: HelperCommand | null | undefined;
  readonly keyName?: string | null | undefined;
  readonly chosenBy?: string | null | undefined;
}

/**
 * The CLI order for `provider`: its env vars, then the chosen key's helper (pending: not
 * run here), then its stored secret. The first wins, the rest are shadowed.
 */
export function resolveKey(
  provider: ProviderName,
  env: Readonly<Record<string, string | undefined>>,
  stored: StoredSecret | null,
  chosen: ChosenKey = {},
): KeyLookup {
  const keyName = chosen.keyName ?? null;
  const found: (Credential | PendingKey)[] = [];
  for (const tier of CLI_ORDER) {
    if (tier === "env") {
      for (const name of providerSpec(provider).envVars) {
        const value = nonBlank(env[name]);
        if (value !== undefined) {
          found.push({ provider, secret: new Secret(value), source: `env:${name}`, kind: "env", keyName: null });
        }
      }
    } else if (tier === "helper") {
      if (chosen.helper) found.push({ ref: new KeyRef(provider, keyName), helper: chosen.helper });
    } else if (stored !== null) {
      const source = keyName === null ? stored.source : `${stored.source}:${keyName}`;
      found.push({ provider, secret: stored.secret, source, kind: stored.source, keyName });
    }
  }
  const [first, ...rest] = found;
  const shadowed = rest.map((c) => ("ref" in c ? pendingSource(c).source : c.source));
  const chosenBy = keyName === null ? null : (chosen.chosenBy ?? null);
  if (first === undefined) return { provider, winner: null, pending: null, shadowed, keyName, chosenBy };
  if ("ref" in first) return { provider, winner: null, pending: first, shadowed, keyName, chosenBy };
  return { provider, winner: first, pending: null, shadowed, keyName, chosenBy };
}

/** The error for a lookup that found nothing: a chosen name never falls back to another key. */
export function missingKey(lookup: KeyLookup): MissingKeyError {
  if (lookup.keyName !== null) {
    return new MissingNamedKeyError(lookup.provider, lookup.keyName, lookup.chosenBy ?? "byok use");
  }
  return new MissingKeyError(lookup.provider, providerSpec(lookup.provider).envVars);
}

/** True when a selection decides: it names a provider or carries a key. */
export function decides(selection: Selection): boolean {
  return selection.provider !== undefined || selection.key !== undefined;
}

/**
 * The winning source: the first, in the SDK order, that names a provider. A source
 * that carries a key but no provider is an error rather than a guess.
 */
export function chooseSelection(selections: readonly Selection[]): Selection {
  for (const origin of SDK_ORDER) {
    const selection = selections.find((s) => s.origin === origin);
    if (selection === undefined) continue;
    if (selection.key !== undefined && selection.provider === undefined) {
      throw new AmbiguousCredentialError(WHERE[origin], PROVIDER_HINT[origin]);
    }
    if (selection.provider !== undefined) return selection;
  }
  return { origin: "config", provider: "trace" };
}

/**
 * `[name, chosenBy]`: the named key for `provider` from the first source (in
 * `KEY_NAME_ORDER`) that names one: the project file's `key_name` for the provider it
 * names only, then the name remembered for `provider`. Neither: its default key.
 */
export function chooseKeyName(
  provider: ProviderName,
  selections: readonly Selection[],
  remembered: Readonly<Partial<Record<ProviderName, string>>>,
): [string | null, string | null] {
  for (const origin of KEY_NAME_ORDER) {
    if (origin === "config") {
      const name = remembered[provider];
      if (name) return [name, `byok use ${provider} --name ${name}`];
      continue;
    }
    const selection = selections.find((s) => s.origin === origin);
    if (selection !== undefined && selection.provider === provider && selection.keyName) {
      return [selection.keyName, selection.chosenBy ?? null];
    }
  }
  return [null, null];
}

/** A per-call model, else the winning source's, else the remembered one, else the default. */
export function resolveModel(
  provider: ProviderName,
  perCallModel: string | undefined,
  winner: Selection,
  remembered: string | undefined,
): [string | null, ModelSource] {
  if (!isByok(provider)) return [null, "default"];
  if (perCallModel !== undefined) return [perCallModel, "argument"];
  if (winner.model !== undefined && winner.origin !== "config") {
    const source: ModelSource = winner.origin === "env" || winner.origin === "project" ? winner.origin : "argument";
    return [winner.model, source];
  }
  if (remembered !== undefined) return [remembered, "config"];
  return [providerSpec(provider).defaultModel, "default"];
}

/** Pair the winner with its key: its own, else the CLI order's; never a silent Trace fallback. */
export function completeSelection(
  winner: Selection,
  lookup: KeyLookup | null,
  model: [string | null, ModelSource],
): Decision {
  const provider = winner.provider ?? "trace";
  let credential: Credential | null = null;
  let pending: PendingKey | null = null;
  if (isByok(provider)) {
    if (winner.key !== undefined) {
      const env = winner.origin === "env";
      credential = {
        provider,
        secret: winner.key,
        source: env ? `env:${SDK_ENV.key}` : "argument",
        kind: env ? "env" : "argument",
        keyName: null,
      };
    } else if (lookup !== null && (lookup.winner !== null || lookup.pending !== null)) {
      credential = lookup.winner;
      pending = lookup.pending;
    } else if (lookup !== null) {
      throw missingKey(lookup);
    } else {
      throw new MissingKeyError(provider, providerSpec(provider).envVars);
    }
  }
  return { provider, credential, pending, model: model[0], modelSource: model[1], origin: winner.origin };
}

function nonBlankRaw(value: string | null | undefined): string | undefined {
  // Blank counts as not given; a given value is validated untrimmed, as Python does.
  return nonBlank(value) === undefined ? undefined : (value ?? undefined);
}
