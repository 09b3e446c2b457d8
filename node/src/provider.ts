/** The four providers and the facts known about each (DESIGN section 1). */
import { UnknownProviderError } from "./errors.js";
import { pyStrip } from "./text.js";

/** A provider name; `trace` means Trace-hosted models billed to the Trace plan. */
export type ProviderName = "anthropic" | "openai" | "gemini" | "trace";

/** Who pays: the user's own provider account, or the Trace plan. */
export type BillingMode = "provider" | "trace_plan";

/** Static facts about one provider. */
export interface ProviderSpec {
  readonly name: ProviderName;
  readonly label: string;
  readonly envVars: readonly string[];
  readonly defaultModel: string | null;
  readonly billing: BillingMode;
  /** Who pays, in the words of the Python domain's `BillingMode.describe` (the shared table checks). */
  readonly payer: string;
}

/** The provider table, in its documented order. */
export const PROVIDERS: readonly ProviderSpec[] = [
  {
    name: "anthropic",
    label: "Anthropic",
    envVars: ["ANTHROPIC_API_KEY"],
    defaultModel: "claude-sonnet-4-6",
    billing: "provider",
    payer: "your own Anthropic account",
  },
  {
    name: "openai",
    label: "OpenAI",
    envVars: ["OPENAI_API_KEY"],
    defaultModel: "gpt-4o",
    billing: "provider",
    payer: "your own OpenAI account",
  },
  {
    name: "gemini",
    label: "Gemini",
    envVars: ["GEMINI_API_KEY", "GOOGLE_API_KEY"],
    defaultModel: "gemini-2.5-flash",
    billing: "provider",
    payer: "your own Google account (Google AI Studio / Google Cloud)",
  },
  {
    name: "trace",
    label: "Trace-hosted",
    envVars: [],
    defaultModel: null,
    billing: "trace_plan",
    payer: "your Trace plan (monthly budget / credits)",
  },
];

const NAMES: readonly ProviderName[] = PROVIDERS.map((p) => p.name);

/** The secret-store account of the Trace login token. */
export const TRACE_TOKEN_ACCOUNT = "trace:token";
/** The environment variable holding a Trace token. */
export const TRACE_TOKEN_ENV = "TRACE_API_TOKEN";

/** The row of `provider`. */
export function providerSpec(provider: ProviderName): ProviderSpec {
  const spec = PROVIDERS.find((p) => p.name === provider);
  if (spec === undefined) throw new UnknownProviderError(provider, NAMES);
  return spec;
}

/** True when requests for `provider` carry the user's own key. */
export function isByok(provider: ProviderName): boolean {
  return provider !== "trace";
}

/** The secret-store account holding `provider`'s key. */
export function accountOf(provider: ProviderName): string {
  return `llm:${provider}`;
}

/**
 * The provider named by `name` (case- and whitespace-insensitive). `byokOnly` is for
 * calls about keys: the error then lists only the providers that take one.
 */
export function parseProvider(name: string, byokOnly = false): ProviderName {
  const wanted = pyStrip(name).toLowerCase();
  const found = NAMES.find((n) => n === wanted);
  if (found === undefined) throw new UnknownProviderError(name, byokOnly ? NAMES.filter(isByok) : NAMES);
  return found;
}
