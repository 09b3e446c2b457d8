/**
 * The error tree, mirroring the Python SDK's `domain.errors` (same names, exit-code
 * families, problems and fixes; tests/shared/errors.json holds the samples both check):
 *
 *     TraceError                         exitCode 1
 *     ├── InvalidInputError              2  (UnknownProviderError, InvalidKeyError and its
 *     │                                      InvalidTokenError,
 *     │                                      InvalidModelError, InvalidSettingError,
 *     │                                      AmbiguousCredentialError, KeyRejectedError,
 *     │                                      ProjectFileError)
 *     ├── MissingConfigurationError      3  (MissingKeyError and its MissingNamedKeyError,
 *     │                                      NotLoggedInError, LoginFailedError and its
 *     │                                      DeviceLoginUnavailableError, KeyHelperError,
 *     │                                      EnvOverrideError)
 *     ├── BackendError                   4  (AuthenticationRejectedError is 3: log in again;
 *     │                                      QuotaExhaustedError, PlanRestrictionError,
 *     │                                      BackendUnavailableError, InsecureTransportError,
 *     │                                      ProtocolError, ProviderUnreachableError)
 *     └── StorageError                   5  (KeychainUnavailableError, InsecurePermissionsError,
 *                                            CorruptFileError, UnreadableFileError,
 *                                            UntrustedLocationError)
 *
 * A message never contains a key or token.
 */
import { pyRepr } from "./text.js";

/** The last step when nothing local can help (the Python domain's REPORT_STEP). */
export const REPORT_STEP =
  "if it persists, report it with this message and the output of buildwithtrace --version";

/** Base of every error the SDK raises; `fix` is the command or step that helps. */
export class TraceError extends Error {
  /** What went wrong. */
  problem: string;
  /** What to run or change. */
  fix: string;

  constructor(problem: string, fix = "") {
    super(fix ? `${problem}\n  fix: ${fix}` : problem);
    this.problem = problem;
    this.fix = fix;
    this.name = new.target.name;
  }

  /** The CLI's exit code for this error's family (DESIGN section 7). */
  get exitCode(): number {
    return 1;
  }

  /** Pass the problem and the fix through `clean` in place (e.g. secret masking). */
  redact(clean: (text: string) => string): void {
    this.reword(clean(this.problem), clean(this.fix));
  }

  /** Replace the problem and the fix (a subclass whose words differ from its parent's). */
  protected reword(problem: string, fix: string): void {
    this.problem = problem;
    this.fix = fix;
    this.message = fix ? `${problem}\n  fix: ${fix}` : problem;
  }
}

/** The caller gave input we cannot accept (exit 2). */
export class InvalidInputError extends TraceError {
  override get exitCode(): number {
    return 2;
  }
}

/** A provider name that is not in the table. */
export class UnknownProviderError extends InvalidInputError {
  /** The name as given. */
  readonly providerName: string;

  constructor(name: string, known: readonly string[]) {
    // A long value is likely a key pasted where the provider goes: never echo it.
    const shown = [...name].length <= 20 ? pyRepr(name) : `(${[...name].length} characters, not shown)`;
    super(`unknown provider ${shown}`, `use one of: ${known.join(", ")}`);
    this.providerName = name;
  }
}

/** A provider key that is empty, too long, not UTF-8 text, or holds spaces or controls. */
export class InvalidKeyError extends InvalidInputError {
  constructor(reason: string, provider: string | null = null, words?: { problem: string; fix: string }) {
    const target = provider ? ` for ${provider}` : "";
    super(
      words?.problem ?? `invalid key${target}: ${reason}; nothing was stored`,
      words?.fix ??
        (provider
          ? `buildwithtrace byok set ${provider}   (paste the key exactly as your provider shows it)`
          : "copy the key again from your provider's console; to store it: " +
            "buildwithtrace byok set anthropic   (or openai, gemini)"),
    );
  }
}

/** A Trace token that breaks the same rules as a key (it is a secret of the same kind). */
export class InvalidTokenError extends InvalidKeyError {
  constructor(reason: string) {
    super(reason, null, {
      problem: `invalid Trace token: ${reason}; nothing was stored`,
      fix:
        "copy the token again from your Trace settings: buildwithtrace auth login --paste" +
        "   (or: buildwithtrace auth login, the browser login)",
    });
  }
}

/** A model id that is empty, too long or contains whitespace/control characters. */
export class InvalidModelError extends InvalidInputError {
  constructor(reason: string) {
    super(
      `invalid model id: ${reason}`,
      "give a model id such as claude-sonnet-4-6 or gpt-4o; to go back to the " +
        "provider's default: buildwithtrace byok model --reset",
    );
  }
}

/** An unknown setting name or a value the setting does not accept. */
export class InvalidSettingError extends InvalidInputError {
  constructor(problem: string, fix = "buildwithtrace config list") {
    super(problem, fix);
  }
}

/** A key was given without saying which provider it belongs to. */
export class AmbiguousCredentialError extends InvalidInputError {
  constructor(where: string, providerHint: string) {
    super(
      `${where} gives an API key but no provider`,
      `also set ${providerHint} (anthropic, openai or gemini)`,
    );
  }
}

/** Something the user must set up before this can work (exit 3). */
export class MissingConfigurationError extends TraceError {
  override get exitCode(): number {
    return 3;
  }
}

/** A BYOK provider is selected but no key resolves for it. */
export class MissingKeyError extends MissingConfigurationError {
  /** The provider without a key. */
  readonly provider: string;

  constructor(provider: string, envVars: readonly string[]) {
    super(
      `no API key for ${provider}: none in ${envVars.join(" or ")} nor in the secret store`,
      `buildwithtrace byok set ${provider}   (or: buildwithtrace byok use trace)`,
    );
    this.provider = provider;
  }
}

/** No Trace token is available. */
export class NotLoggedInError extends MissingConfigurationError {
  constructor(problem = "not logged in to Trace") {
    super(problem, "buildwithtrace auth login   (or set TRACE_API_TOKEN)");
  }
}

/** The browser login did not deliver a token. */
/** The shared fix of a login that did not deliver a token. */
export const LOGIN_FIX =
  "buildwithtrace auth login --token-stdin   (paste a token from your Trace settings)";

export class LoginFailedError extends MissingConfigurationError {
  constructor(problem: string, fix: string = LOGIN_FIX) {
    super(problem, fix);
  }
}

/** The Trace backend offers no device login (it answered 404 to `/auth/device/code`). */
export class DeviceLoginUnavailableError extends LoginFailedError {
  constructor() {
    super(
      "this Trace backend does not offer the browser (device) login",
      "buildwithtrace auth login --paste   (or --token-stdin; a token from your Trace " +
        "settings)",
    );
  }
}

/** The Trace backend or the network failed us (exit 4). */
export class BackendError extends TraceError {
  override get exitCode(): number {
    return 4;
  }
}

/** The backend answered 401: the token is missing, expired or revoked. */
export class AuthenticationRejectedError extends BackendError {
  constructor() {
    super("the Trace backend rejected the login token (401)", "buildwithtrace auth login");
  }

  override get exitCode(): number {
    return 3;
  }
}

/** The backend's own words (an excerpt, already masked and printable), quoted. */
function backendSaid(detail: string): string {
  return detail ? `: "${detail}"` : " (it gave no reason)";
}

/**
 * The backend answered 402 (payment required): its words, and who pays for what.
 * `provider` is the provider in effect (`trace` for Trace-hosted models), `payer` its words.
 */
export class QuotaExhaustedError extends BackendError {
  /** The provider in effect. */
  readonly provider: string;

  constructor(provider: string, payer: string, detail = "") {
    const refused = `the Trace backend refused the request with 402 Payment Required${backendSaid(detail)}`;
    const trace = provider === "trace";
    super(
      trace
        ? `${refused}; Trace-hosted models are billed to ${payer}`
        : `${refused}; with ${provider} active, model usage is billed to ${payer}, ` +
            "not to your Trace plan's budget",
      trace
        ? "buildwithtrace billing status   (what is used and left); or use your own key: " +
            "buildwithtrace byok set anthropic   (or openai, gemini)"
        : `if the message is about ${payer}, add credit there; if it is about your ` +
            "Trace plan: buildwithtrace billing status",
    );
    this.provider = provider;
  }
}

/** The backend answered 403: the Trace plan does not allow this request (its mode). */
export class PlanRestrictionError extends BackendError {
  /** The mode the request asked for. */
  readonly mode: string;

  constructor(mode: string, detail = "") {
    super(
      `the Trace backend refused the request in ${mode} mode (403 Forbidden)${backendSaid(detail)}`,
      mode === "ask"
        ? "ask mode is refused too, so this is about your account, not the mode: " +
            "buildwithtrace billing status   (and: buildwithtrace auth status)"
        : 'run the chat again with --mode ask (SDK: mode="ask"): free plans allow ask ' +
            "only, even with your own key; or upgrade your Trace plan (see it with: " +
            "buildwithtrace billing status)",
    );
    this.mode = mode;
  }
}

/** The backend could not be reached or kept failing after retries. */
export class BackendUnavailableError extends BackendError {
  constructor(problem: string) {
    super(problem, "check the network and TRACE_BASE_URL, then try again");
  }
}

/** Refused to send a key or token to a non-HTTPS, non-loopback URL. */
export class InsecureTransportError extends BackendError {
  constructor(url: string) {
    super(
      `refusing to send credentials to ${url}: only https or a loopback address is allowed`,
      "set TRACE_BASE_URL to an https:// URL",
    );
  }
}

/** The backend answered something the protocol does not allow. */
export class ProtocolError extends BackendError {
  constructor(problem: string) {
    super(problem, `try again; ${REPORT_STEP}`);
  }
}

/** Local storage (keychain, credentials file, config) failed (exit 5). */
export class StorageError extends TraceError {
  override get exitCode(): number {
    return 5;
  }
}

/** The OS keychain cannot be used (absent, locked, refused, or too slow). */
export class KeychainUnavailableError extends StorageError {
  /** Why, in words. */
  readonly reason: string;

  constructor(reason: string) {
    super(
      `the OS keychain is not usable: ${reason}`,
      "unlock the keychain (or start a Secret Service), or use the file store: " +
        "buildwithtrace config set credentials.store file",
    );
    this.reason = reason;
  }
}

/** A secrets file or directory is readable by other users. */
export class InsecurePermissionsError extends StorageError {
  /** The offending path. */
  readonly path: string;

  constructor(path: string, mode: number, wanted: number) {
    super(
      `${path} has mode ${mode.toString(8).padStart(4, "0")}; other users could read your secrets`,
      `chmod ${wanted.toString(8)} ${path}`,
    );
    this.path = path;
  }
}

/** A file we own exists but cannot be parsed; it is left untouched. */
export class CorruptFileError extends StorageError {
  /** The corrupt file. */
  readonly path: string;

  constructor(path: string, detail: string) {
    super(
      `${path} is corrupt (${detail}); it was left unchanged`,
      `fix or move the file aside (mv ${path} ${path}.bad) and run the command again`,
    );
    this.path = path;
  }
}

/** A file or directory we need cannot be read or written; `fix` when the default is not the step. */
export class UnreadableFileError extends StorageError {
  /** The unreadable path. */
  readonly path: string;

  constructor(path: string, detail: string, fix = "") {
    super(`cannot use ${path}: ${detail}`, fix || `check that ${path} is a regular file you own (ls -l ${path})`);
    this.path = path;
  }
}

/** A config or secrets location another local user could change. */
export class UntrustedLocationError extends StorageError {
  /** The untrusted path. */
  readonly path: string;

  constructor(path: string, detail: string, fix: string) {
    super(`refusing to use ${path}: ${detail}`, fix);
    this.path = path;
  }
}

// --- where keys come from: named keys, helper commands, verification, project files ----
// (issue 13; the Python side's domain/errors.py keeps them together at its end too)

/** A named key was chosen (by a project file or `byok use --name`) but does not exist. */
export class MissingNamedKeyError extends MissingKeyError {
  /** The name that was chosen. */
  readonly keyName: string;

  constructor(provider: string, name: string, chosenBy: string) {
    super(provider, []);
    this.reword(
      `no ${provider} key named ${pyRepr(name)} (chosen by ${chosenBy})`,
      `buildwithtrace byok set ${provider} --name ${name}   (or choose another key: buildwithtrace byok status)`,
    );
    this.keyName = name;
  }
}

/** A key helper command failed, timed out, or printed something that is not a key. */
export class KeyHelperError extends MissingConfigurationError {
  /** The key's label (`anthropic`, `openai:client-a`). */
  readonly key: string;

  constructor(key: string, problem: string, fix: string) {
    super(`${key}: ${problem}`, fix);
    this.key = key;
  }
}

/** An environment variable would override a stored key, and the setting forbids it. */
export class EnvOverrideError extends MissingConfigurationError {
  /** The variable that holds the overriding key. */
  readonly variable: string;

  constructor(variable: string, overridden: string) {
    super(
      `${variable} is set and would override ${overridden} (keys.env_override = error)`,
      `unset ${variable}   (or: buildwithtrace config set keys.env_override warn)`,
    );
    this.variable = variable;
  }
}

/** The provider's own models endpoint rejected the key (HTTP 401/403). */
export class KeyRejectedError extends InvalidInputError {
  /** The provider that rejected it. */
  readonly provider: string;
  /** The provider's HTTP status. */
  readonly status: number;

  constructor(provider: string, status: number, stored = false) {
    super(
      stored
        ? `${provider} rejected the key (HTTP ${status})`
        : `${provider} rejected the key (HTTP ${status}); it was not stored`,
      stored
        ? `buildwithtrace byok set ${provider}   (store a working key)`
        : `check the key, then store it again: buildwithtrace byok set ${provider}   (--force stores it anyway)`,
    );
    this.provider = provider;
    this.status = status;
  }
}

/** The provider's models endpoint could not say whether the key works. */
export class ProviderUnreachableError extends BackendError {
  /** The provider asked. */
  readonly provider: string;

  constructor(provider: string, reason: string) {
    super(
      `could not check the key with ${provider}: ${reason}`,
      `check the network (and TRACE_${provider.toUpperCase()}_BASE_URL if set), then ask ` +
        `again: buildwithtrace byok verify ${provider}`,
    );
    this.provider = provider;
  }
}

/** A project file (trace.toml) that holds more than a choice among the user's own keys. */
export class ProjectFileError extends InvalidInputError {
  /** The project file. */
  readonly path: string;

  constructor(path: string, problem: string) {
    super(
      `${path}: ${problem}`,
      `edit ${path} so it holds only [llm] provider, key_name and model (names of ` +
        "your own keys and models; never a key or a command), then check it: " +
        "buildwithtrace byok status",
    );
    this.path = path;
  }
}
