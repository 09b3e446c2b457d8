/**
 * What the user is told once, before a request: no surprise bills (the Python side's
 * `domain/notices.py`, same codes and words). An environment variable's key displacing
 * the user's own key for the same provider, and a project file that was found but is
 * ignored; `keys.env_override = error` turns the first into `EnvOverrideError`. The SDK
 * hands them to `new Trace({ onNotice })`, else emits a `TraceNotice` process warning,
 * once per client; they are not events of `stream()`.
 */
import { EnvOverrideError } from "./errors.js";
import { type ProjectUse, applies, ignoredReason, projectDirectory } from "./project.js";
import type { ProviderName } from "./provider.js";
import type { Credential, KeySource } from "./resolution.js";

/** The kinds of notice (a stable vocabulary; the words may change). */
export type NoticeCode = "env_override" | "project_ignored" | "key_refreshed";

/** One thing the user should know before (or about) a request. */
export interface Notice {
  readonly code: NoticeCode;
  readonly message: string;
}

/** `keys.env_override`: say so (the default), or refuse the request. */
export type EnvOverridePolicy = "warn" | "error";

/** What resolution knows when the notices are derived. */
export interface NoticeFacts {
  readonly provider: ProviderName;
  readonly credential: Credential | null;
  readonly project: ProjectUse | null;
  readonly overrides: KeySource | null;
}

/** The env-override notice, if an env var's key displaced the user's own key. */
export function overrideNotice(facts: NoticeFacts): Notice | null {
  const { overrides, credential } = facts;
  if (overrides === null || credential === null) return null;
  const variable = variableOf(credential);
  return {
    code: "env_override",
    message:
      `${variable} is set: its key is used for ${facts.provider} instead of ` +
      `${described(overrides, facts.project)}; unset ${variable} to use yours`,
  };
}

/** The notice for a project file that was found but does not apply. */
export function projectNotice(project: ProjectUse | null): Notice | null {
  if (project === null || applies(project)) return null;
  return {
    code: "project_ignored",
    message: `ignored ${project.path} (${ignoredReason(project)}): run buildwithtrace project allow ${projectDirectory(project)}`,
  };
}

/** The notice after the provider rejected a helper's key and the helper ran again. */
export function refreshedNotice(provider: ProviderName, source: string): Notice {
  return {
    code: "key_refreshed",
    message: `${provider} rejected the key from ${source}; ran the helper again and retried the request once`,
  };
}

/** Every notice to give before a request, in a stable order. */
export function resolutionNotices(facts: NoticeFacts): Notice[] {
  return [projectNotice(facts.project), overrideNotice(facts)].filter((n): n is Notice => n !== null);
}

/** Throw `EnvOverrideError` when an env var displaced the user's key and the policy is `error`. */
export function checkEnvOverride(facts: NoticeFacts, policy: EnvOverridePolicy): void {
  if (policy !== "error" || facts.overrides === null) return;
  const credential = facts.credential;
  if (credential === null || credential.kind !== "env") return;
  throw new EnvOverrideError(variableOf(credential), described(facts.overrides, facts.project));
}

function variableOf(credential: Credential): string {
  return credential.source.startsWith("env:") ? credential.source.slice(4) : credential.source;
}

/** `your stored key (keychain:work, chosen by /p/trace.toml)`. */
function described(source: KeySource, project: ProjectUse | null): string {
  const kind = source.kind === "helper" ? "key from your helper" : "stored key";
  const chosen =
    project !== null && applies(project) && source.keyName !== null && project.selection.keyName === source.keyName
      ? `, chosen by ${project.path}`
      : "";
  return `your ${kind} (${source.source}${chosen})`;
}
