/** The JSON shapes of DESIGN section 5 and the status mapping, as the Python client has them. */
import {
  AuthenticationRejectedError,
  BackendError,
  PlanRestrictionError,
  QuotaExhaustedError,
  REPORT_STEP,
} from "../errors.js";
import { SecretMasker } from "../masking.js";
import { type ProviderName, providerSpec } from "../provider.js";
import { isPrintable } from "../text.js";

const EXCERPT_CHARS = 160;

/**
 * The error for a non-retryable, non-2xx status; `secrets` are masked in the excerpt.
 * 402 and 403 of a chat quote the backend's message and say who pays for the provider in effect.
 */
export function statusError(
  status: number,
  body: Uint8Array,
  secrets: readonly string[],
  context: { mode?: string | undefined; provider?: ProviderName | undefined },
): BackendError {
  if (status === 401) return new AuthenticationRejectedError();
  const excerpt = bodyExcerpt(body, secrets);
  if (status === 402 && context.provider !== undefined) {
    return new QuotaExhaustedError(context.provider, providerSpec(context.provider).payer, excerpt);
  }
  if (status === 403 && context.mode !== undefined) return new PlanRestrictionError(context.mode, excerpt);
  return new BackendError(
    `the Trace backend answered HTTP ${status}${excerpt ? `: ${excerpt}` : ""}`,
    `try again later; ${REPORT_STEP}`,
  );
}

/** `text` with every run of 8+ characters of a secret (raw or JSON-escaped) replaced by `***`. */
export function maskSecrets(text: string, secrets: readonly string[]): string {
  return new SecretMasker(secrets).mask(text);
}

/** A short printable excerpt of an error body (its `detail` when JSON), secrets masked first. */
export function bodyExcerpt(body: Uint8Array, secrets: readonly string[]): string {
  let text = new TextDecoder("utf-8").decode(body.subarray(0, 16384));
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed === "object" && parsed !== null && typeof (parsed as { detail?: unknown }).detail === "string") {
      text = (parsed as { detail: string }).detail;
    }
  } catch {
    // not JSON: the text itself
  }
  text = maskSecrets(text, secrets);
  text = [...text].map((ch) => (isPrintable(ch) ? ch : " ")).join("");
  text = text.split(/\s+/u).filter((w) => w !== "").join(" ");
  const chars = [...text];
  return chars.length <= EXCERPT_CHARS ? text : chars.slice(0, EXCERPT_CHARS - 1).join("") + "…";
}
