/**
 * Verifying a key with its own provider (the Python side's `domain/verification.py` and
 * `adapters/verify/http.py`): `GET <base>/v1/models` (Gemini `<base>/v1beta/models`) with
 * the key in a header, never in the URL. The base URL is the provider's API, or
 * `TRACE_<PROVIDER>_BASE_URL` (a proxy, a test stub); the backend's transport rule
 * applies: https, or http to a loopback address (`localhost` pinned to the address it
 * resolves to); no redirect is followed (it could carry the header elsewhere). 2xx is
 * valid, 401/403 (and Gemini's 400 `API_KEY_INVALID`) rejected, anything else
 * unreachable with the reason. Every failure is a verdict, never an exception.
 */
import { getSystemErrorMap } from "node:util";

import { InvalidSettingError, KeyRejectedError, ProviderUnreachableError, type TraceError } from "./errors.js";
import type { Fetch } from "./http/backend.js";
import { checkTransport, normalizeBaseUrl, pinLocalhost } from "./http/urls.js";
import type { ProviderName } from "./provider.js";
import type { Secret } from "./secret.js";
import { nonBlank } from "./text.js";

/** What the provider said about a key. */
export type Verdict = "valid" | "rejected" | "unreachable";

/** The provider's verdict on a key, with the HTTP status and a short reason. */
export interface KeyVerification {
  readonly provider: ProviderName;
  readonly verdict: Verdict;
  readonly status: number | null;
  readonly detail: string;
  readonly maskedKey: string | null;
  /** Where the checked key came from (`keychain`, `helper:work`, `env:OPENAI_API_KEY`...). */
  readonly source: string | null;
  /** True when the provider accepted the key. */
  readonly valid: boolean;
  /** What a rejected or unchecked key means (`KeyRejectedError`, `ProviderUnreachableError`); not thrown. */
  readonly failure: TraceError | null;
}

interface Endpoint {
  readonly base: string;
  readonly env: string;
  readonly path: string;
  readonly header: string;
  readonly prefix: string;
  readonly extra: Readonly<Record<string, string>>;
}

/** Where each provider lists its models, and how it takes a key. */
export const ENDPOINTS: Readonly<Record<Exclude<ProviderName, "trace">, Endpoint>> = {
  anthropic: {
    base: "https://api.anthropic.com",
    env: "TRACE_ANTHROPIC_BASE_URL",
    path: "/v1/models",
    header: "x-api-key",
    prefix: "",
    extra: { "anthropic-version": "2023-06-01" },
  },
  openai: { base: "https://api.openai.com", env: "TRACE_OPENAI_BASE_URL", path: "/v1/models", header: "Authorization", prefix: "Bearer ", extra: {} },
  gemini: {
    base: "https://generativelanguage.googleapis.com",
    env: "TRACE_GEMINI_BASE_URL",
    path: "/v1beta/models",
    header: "x-goog-api-key",
    prefix: "",
    extra: {},
  },
};

/** Seconds for the whole check: connect and answer. */
export const VERIFY_TIMEOUT_S = 10;
const BODY_BYTES = 64 * 1024;

/**
 * Each provider's base URL: `TRACE_<PROVIDER>_BASE_URL`, else its API. Throws
 * `InvalidSettingError` for a variable that is not an http(s)://host[:port] URL (all
 * three are read, as the Python verifier reads them when it is built).
 */
export function verifyBaseUrls(env: Readonly<Record<string, string | undefined>>): Record<keyof typeof ENDPOINTS, string> {
  const urls = {} as Record<keyof typeof ENDPOINTS, string>;
  for (const [provider, endpoint] of Object.entries(ENDPOINTS) as [keyof typeof ENDPOINTS, Endpoint][]) {
    const raw = nonBlank(env[endpoint.env]);
    if (raw === undefined) {
      urls[provider] = endpoint.base;
      continue;
    }
    try {
      urls[provider] = normalizeBaseUrl(raw);
    } catch {
      throw new InvalidSettingError(
        `${endpoint.env} is not an http(s)://host[:port] URL`,
        `unset ${endpoint.env} (or set it to the https:// URL of a proxy for ${provider})`,
      );
    }
  }
  return urls;
}

/** The verdict for an HTTP answer of `provider`'s models endpoint. */
export function classify(provider: ProviderName, status: number, body: Uint8Array): Verdict {
  if (status >= 200 && status < 300) return "valid";
  if (status === 401 || status === 403) return "rejected";
  if (provider === "gemini" && status === 400 && Buffer.from(body.subarray(0, BODY_BYTES)).includes("API_KEY_INVALID")) {
    return "rejected";
  }
  return "unreachable";
}

function detailOf(verdict: Verdict, status: number): string {
  if (verdict === "valid") return `the models endpoint accepted the key (HTTP ${status})`;
  if (verdict === "rejected") return `the provider rejected the key (HTTP ${status})`;
  return `the models endpoint answered HTTP ${status}, which says nothing about the key`;
}

/** A verdict with its derived fields. */
export function verification(
  provider: ProviderName,
  verdict: Verdict,
  status: number | null,
  detail: string,
  maskedKey: string | null,
  source: string | null = null,
): KeyVerification {
  let failure: TraceError | null = null;
  if (verdict === "rejected") failure = new KeyRejectedError(provider, status ?? 401, true);
  else if (verdict === "unreachable") failure = new ProviderUnreachableError(provider, detail);
  return { provider, verdict, status, detail, maskedKey, source, valid: verdict === "valid", failure };
}

/** Ask `provider`'s models endpoint at `baseUrl` whether `secret` works. */
export async function verifyKey(
  provider: keyof typeof ENDPOINTS,
  secret: Secret,
  options: { baseUrl: string; fetch?: Fetch | undefined; timeoutSeconds?: number },
): Promise<KeyVerification> {
  const endpoint = ENDPOINTS[provider];
  const url = options.baseUrl.replace(/\/+$/, "") + endpoint.path;
  checkTransport(url); // before anything is sent: https, or http to loopback
  const masked = secret.masked();
  const key = secret.reveal();
  if (!/^[\x00-\x7f]*$/.test(key)) {
    return verification(provider, "unreachable", null, "the key contains non-ASCII characters and cannot be sent in a header", masked);
  }
  const connectUrl = await pinLocalhost(url);
  const headers: Record<string, string> = { [endpoint.header]: endpoint.prefix + key, Accept: "application/json", ...endpoint.extra };
  const send = options.fetch ?? ((input: string, init: RequestInit) => fetch(input, init));
  const signal = AbortSignal.timeout((options.timeoutSeconds ?? VERIFY_TIMEOUT_S) * 1000);
  let status: number;
  let body: Uint8Array;
  try {
    const response = await send(connectUrl, { method: "GET", headers, redirect: "manual", signal });
    status = response.status;
    body = await readSome(response);
  } catch (error) {
    return verification(provider, "unreachable", null, failure(error, signal), masked);
  }
  const verdict = classify(provider, status, body);
  const detail =
    status >= 300 && status < 400
      ? `the models endpoint redirected (HTTP ${status}); redirects are not followed`
      : detailOf(verdict, status);
  return verification(provider, verdict, status, detail, masked);
}

async function readSome(response: Response): Promise<Uint8Array> {
  const reader = response.body?.getReader();
  if (reader === undefined) return new Uint8Array();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    while (size < BODY_BYTES) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      size += value.length;
    }
  } finally {
    await reader.cancel().catch(() => undefined);
  }
  return Buffer.concat(chunks).subarray(0, BODY_BYTES);
}

/** A short, key-free reason (network errors carry no headers). */
function failure(error: unknown, signal: AbortSignal): string {
  if (signal.aborted) return "timed out waiting for the provider";
  const code = errorCode(error);
  if (code !== undefined && /^(ECONNREFUSED|ECONNRESET|EHOSTUNREACH|ENETUNREACH|ENOTFOUND|EAI_AGAIN|ETIMEDOUT)$/.test(code)) {
    const words = [...getSystemErrorMap().values()].find(([name]) => name === code)?.[1] ?? code;
    return `could not connect (${words})`;
  }
  return `network error (${code ?? (error instanceof Error ? error.name : "unknown")})`;
}

function errorCode(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 4 && current instanceof Error; depth += 1) {
    if ("code" in current && typeof current.code === "string" && current.code !== "UND_ERR_SOCKET") return current.code;
    if (current instanceof AggregateError && current.errors[0] !== undefined) current = current.errors[0];
    else current = current.cause;
  }
  return undefined;
}
