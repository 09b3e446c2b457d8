/**
 * Which provider, key and model a request uses, and where each came from: the rules of
 * DESIGN section 3 as data and pure functions (the same table as the Python SDK's
 * `domain/resolution.py`; tests/shared/resolution-cases.json holds the shared cases).
 */
import { AmbiguousCredentialError, MissingKeyError } from "./errors.js";
import { type BillingMode, type ProviderName, isByok, parseProvider, providerSpec } from "./provider.js";
import { Secret, parseModelId } from "./secret.js";
import { nonBlank } from "./text.js";

/** A source that may name the provider (and key, model) for a request. */
export type SelectionOrigin = "argument" | "env" | "client" | "config";
/** Where the model was chosen. */
export type ModelSource = "argument" | "env" | "config" | "default";

/** The SDK order, first wins: per call, `TRACE_LLM_*`, constructor defaults, the store. */
export const SDK_ORDER: readonly SelectionOrigin[] = ["argument", "env", "client", "config"];
/** The CLI order for a provider's key: its env vars, then the secret store. */
export const CLI_ORDER = ["env", "store"] as const;

/** The SDK's environment variables. */
export const SDK_ENV = {
  provider: "TRACE_LLM_PROVIDER",
  key: "TRACE_LLM_API_KEY",
  model: "TRACE_LLM_MODEL",
} as const;

/** A key with where it came from (`env:NAME`, `keychain`, `file`, `memory`, `argument`). */
export interface Credential {
  readonly provider: ProviderName;
  readonly secret: Secret;
  readonly source: string;
}

/** A secret as a store returned it, with the store's source label. */
export interface StoredSecret {
  readonly secret: Secret;
  readonly source: string;
}

/** What one source says: each part possibly absent. */
export interface Selection {
  readonly origin: SelectionOrigin;
  readonly provider?: ProviderName | undefined;
  readonly key?: Secret | undefined;
  readonly model?: string | undefined;
}

/** Provider, key and model as a caller gives them (a call's options or constructor defaults). */
export interface LlmChoice {
  llmProvider?: string | null | undefined;
  llmApiKey?: string | null | undefined;
  llmModelId?: string | null | undefined;
}

/** The outcome of the CLI order for one provider: the winner and what it shadows. */
export interface KeyLookup {
  readonly winner: Credential | null;
  readonly shadowed: readonly string[];
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
}

const PROVIDER_HINT: Record<SelectionOrigin, string> = {
  argument: "llm_provider=",
  client: "llm_provider= in Trace(...)",
  env: SDK_ENV.provider,
  config: "buildwithtrace byok use",
};
const WHERE: Record<SelectionOrigin, string> = {
  argument: "the call",
  client: "the client's defaults",
  env: SDK_ENV.key,
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

/** Every key available for `provider`, in the CLI order; the first wins, the rest are shadowed. */
export function resolveKey(
  provider: ProviderName,
  env: Readonly<Record<string, string | undefined>>,
  stored: StoredSecret | null,
): KeyLookup {
  const found: Credential[] = [];
  for (const name of providerSpec(provider).envVars) {
    const value = nonBlank(env[name]);
    if (value !== undefined) found.push({ provider, secret: new Secret(value), source: `env:${name}` });
  }
  if (stored !== null) found.push({ provider, secret: stored.secret, source: stored.source });
  const [winner, ...rest] = found;
  return { winner: winner ?? null, shadowed: rest.map((c) => c.source) };
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
    return [winner.model, winner.origin === "env" ? "env" : "argument"];
  }
  if (remembered !== undefined) return [remembered, "config"];
  return [providerSpec(provider).defaultModel, "default"];
}

/** Pair the winner with its key: its own, else the CLI order's; never a silent Trace fallback. */
export function completeSelection(
  winner: Selection,
  lookup: KeyLookup | null,
  model: [string | null, ModelSource],
): Resolution {
  const provider = winner.provider ?? "trace";
  let credential: Credential | null = null;
  if (isByok(provider)) {
    if (winner.key !== undefined) {
      credential = {
        provider,
        secret: winner.key,
        source: winner.origin === "env" ? `env:${SDK_ENV.key}` : "argument",
      };
    } else if (lookup?.winner) {
      credential = lookup.winner;
    } else {
      throw new MissingKeyError(provider, providerSpec(provider).envVars);
    }
  }
  return {
    provider,
    credential,
    model: model[0],
    modelSource: model[1],
    origin: winner.origin,
    billing: providerSpec(provider).billing,
    keySource: credential?.source ?? null,
    maskedKey: credential?.secret.masked() ?? null,
  };
}

function nonBlankRaw(value: string | null | undefined): string | undefined {
  // Blank counts as not given; a given value is validated untrimmed, as Python does.
  return nonBlank(value) === undefined ? undefined : (value ?? undefined);
}
