/**
 * `Trace`: the Node SDK's client. It reads what the `buildwithtrace` CLI stores
 * (config.toml, credentials.json, the OS keychain) and never writes any of it, so a
 * key set once with `buildwithtrace byok set` is used here with no extra step.
 *
 * Precedence per call (the Python SDK's table, tests/shared/resolution-cases.json):
 * `chat(msg, { llmProvider, llmApiKey, llmModelId })`, then `TRACE_LLM_PROVIDER` /
 * `TRACE_LLM_API_KEY` / `TRACE_LLM_MODEL`, then `new Trace({...})` defaults, then an
 * allowed project file (`trace.toml`), then the persisted store. A provider's key: its
 * env vars, then the chosen key's helper command, then the chosen key in the store (the
 * chosen key: the project file's `key_name`, else `byok use --name`'s, else the default).
 * The Trace token: `token`, then `TRACE_API_TOKEN`, then the stored login.
 */
import { randomUUID } from "node:crypto";
import { statSync } from "node:fs";
import { resolve as resolvePath } from "node:path";

import { type Retry, runTurn } from "./chat.js";
import type { SecretReader } from "./config/credentials.js";
import { configDir } from "./config/paths.js";
import { LocalProjectFiles, type ProjectFileFinder } from "./config/project-files.js";
import {
  DEFAULT_HELPER_TIMEOUT,
  DEFAULT_HELPER_TTL,
  type Settings,
  type SettingsReader,
  TomlSettingsReader,
} from "./config/settings.js";
import { BackendError, InvalidInputError, NotLoggedInError } from "./errors.js";
import type { ChatEvent, ChatReply } from "./events.js";
import { HelperKeys } from "./helpers/helper-keys.js";
import { type KeyHelper, SubprocessKeyHelper } from "./helpers/subprocess.js";
import { type Fetch, HttpBackend } from "./http/backend.js";
import { baseUrlFor } from "./http/urls.js";
import { type KeyContext, KeyResolution, findProject } from "./key-resolution.js";
import type { Notice } from "./notices.js";
import { parseKeyName } from "./keys.js";
import { TRACE_TOKEN_ACCOUNT, TRACE_TOKEN_ENV, parseProvider } from "./provider.js";
import { type LlmChoice, type Resolution, type Selection, toSelection } from "./resolution.js";
import { Secret } from "./secret.js";
import { keychainFromEnv, secretReaderFor, storeChoice } from "./stores.js";
import type { KeychainSecretReader } from "./keychain/reader.js";
import { nonBlank, pyRepr } from "./text.js";
import { LocalToolRunner, type LocalToolRunnerOptions } from "./tools/local-runner.js";
import { type KeyVerification, verifyBaseUrls, verifyKey } from "./verify.js";
import { type ChatMode, ModeGuard, type ToolContext, type ToolRunner } from "./tools/runner.js";

/** Environment variables, as `process.env` holds them. */
export type Environment = Readonly<Record<string, string | undefined>>;

/** Options of `new Trace({...})`; every one is optional. */
export interface TraceOptions extends LlmChoice {
  /** The Trace token (else `TRACE_API_TOKEN`, else the login stored by `buildwithtrace auth login`). */
  token?: string;
  /** The backend's base URL, instead of `TRACE_BASE_URL`. */
  baseUrl?: string;
  /** The default project directory: the sandbox root of the model's tools. */
  projectDir?: string;
  /** The `fetch` to use (default: the platform's). */
  fetch?: Fetch;
  /** The environment variables to read instead of `process.env` (read on every call). */
  env?: Environment;
  /** Your own secret store instead of the CLI's (e.g. `new MemorySecretStore()`). */
  secrets?: SecretReader;
  /** Your own settings instead of config.toml (e.g. `new MemorySettingsStore()`). */
  settings?: SettingsReader;
  /**
   * Runs the model's tool calls: a runner, or a factory given each turn's root and mode
   * (default: a `LocalToolRunner` on the turn's project directory).
   */
  toolRunner?: ToolRunner | ((context: ToolContext) => ToolRunner);
  /** Limits of the default `LocalToolRunner` (`grepSeconds`, `kicadCli`, `maxResultChars`...). */
  localTools?: LocalToolRunnerOptions;
  /** How many tool calls of one turn run at once (default 4). */
  maxParallelTools?: number;
  /** Longest silence inside a stream, in milliseconds (default 120000). */
  readTimeoutMs?: number;
  /** Told about things worth a warning (malformed events skipped). */
  onWarning?: (text: string) => void;
  /**
   * Told once per client, before a request, what the user should know: an environment
   * variable's key used instead of your own (`env_override`), a project file found but
   * not allowed (`project_ignored`), a helper's key fetched again (`key_refreshed`).
   * Without it each is a process warning of type `TraceNotice` (`process.on("warning")`).
   */
  onNotice?: (notice: Notice) => void;
  /** Runs key helper commands instead of child processes (e.g. `new ScriptedKeyHelper({...})`). */
  keyHelper?: KeyHelper;
  /** Finds project files instead of the disk (e.g. `new MemoryProjectFiles()`). */
  projectFiles?: ProjectFileFinder;
}

/** Options of `verify`. */
export interface VerifyOptions {
  /** Verify this named key (`byok set P --name NAME`) instead of the one a chat would use. */
  name?: string;
  /** Where a project file (which may choose the key) is looked for. */
  projectDir?: string;
}

/** Which KiCad editor the conversation is about. */
export type AppType = "eeschema" | "pcbnew";

/** Options of `chat` and `stream`. */
export interface ChatOptions extends LlmChoice {
  /** `ask` (default), `plan` (read-only tools) or `agent` (may edit design files). */
  mode?: ChatMode;
  /** Cancels the turn: the request is aborted and running tools are told to stop. */
  signal?: AbortSignal;
  /** `eeschema` (default) or `pcbnew`. */
  appType?: AppType;
  /** The file the question is about. */
  filePath?: string;
  /** Continue this conversation. */
  conversationId?: string;
  /** The sandbox root for this call (else the constructor's, else the current directory). */
  projectDir?: string;
}

/** Options of `resolve`: the per-call provider, key and model, and where to look for a project file. */
export interface ResolveOptions extends LlmChoice {
  /** Where a project file is looked for (else the constructor's, else the current directory). */
  projectDir?: string;
}

const MODES: readonly ChatMode[] = ["ask", "agent", "plan"];
const APP_TYPES: readonly AppType[] = ["eeschema", "pcbnew"];

/** A Trace client: `chat`, `stream`, `resolve` (what a request would use) and `verify` (does the key work). */
export class Trace {
  readonly #options: TraceOptions;
  readonly #env: Environment;
  readonly #defaults: Selection | undefined;
  readonly #token: Secret | undefined;
  readonly #projectDir: string | undefined;
  readonly #configDir: string;
  readonly #settings: SettingsReader;
  readonly #projectFiles: ProjectFileFinder;
  readonly #told = new Set<string>();
  #keychain: KeychainSecretReader | null = null;
  #backend: HttpBackend | null = null;
  #helperKeys: HelperKeys | null = null;

  /** Validates every option given (an unknown provider or a malformed key throws here). */
  constructor(options: TraceOptions = {}) {
    this.#options = options;
    this.#env = options.env ?? process.env;
    this.#defaults = toSelection(options, "client");
    this.#token = options.token === undefined ? undefined : Secret.parseToken(options.token);
    this.#projectDir = options.projectDir === undefined ? undefined : projectDir(options.projectDir);
    this.#configDir = configDir(this.#env);
    this.#settings = options.settings ?? new TomlSettingsReader(this.#configDir);
    this.#projectFiles = options.projectFiles ?? new LocalProjectFiles();
  }

  /**
   * Which provider, key (masked, with its source) and model a chat would use; sends
   * nothing. A key helper that supplies the key runs (its key is then held in memory
   * for the chats that follow). `overrides`, `project` and `notices` say what an env var
   * displaced, which project file was found, and what a chat would tell first.
   */
  async resolve(options: ResolveOptions = {}): Promise<Resolution> {
    const searchFrom = options.projectDir === undefined ? this.#projectDir : projectDir(options.projectDir);
    return (await this.#resolve(options, searchFrom)).resolution;
  }

  /**
   * Ask `provider`'s own models endpoint whether the key a chat would use works (or the
   * named key `name`): env vars, helper (run with reason `verify`) and store, as
   * `buildwithtrace byok verify` does. The verdict never throws: its `failure` is the
   * `KeyRejectedError` or `ProviderUnreachableError` it means. Throws `MissingKeyError`
   * when there is no key, `KeyHelperError` when a helper fails.
   */
  async verify(provider: string, options: VerifyOptions = {}): Promise<KeyVerification> {
    const parsed = parseProvider(provider, true);
    const name = options.name === undefined ? null : parseKeyName(options.name);
    const urls = verifyBaseUrls(this.#env); // a bad TRACE_*_BASE_URL first, as Python builds its verifier first
    if (parsed === "trace") {
      throw new InvalidInputError("Trace-hosted models take no key to verify", "buildwithtrace auth status");
    }
    const settings = await this.#settings.load();
    let project = null;
    if (name === null) {
      const searchFrom = options.projectDir === undefined ? this.#projectDir : projectDir(options.projectDir);
      project = await findProject(this.#projectFiles, searchFrom ?? process.cwd(), settings);
    }
    const resolver = this.#resolver(settings);
    const lookup = await resolver.forProvider(parsed, { settings, project }, name);
    const credential = await resolver.fetch(lookup, "verify");
    const found = await verifyKey(parsed, credential.secret, { baseUrl: urls[parsed], fetch: this.#options.fetch });
    return { ...found, source: credential.source };
  }

  /** Run one turn to the end (tools included) and return the reply. */
  async chat(message: string, options: ChatOptions = {}): Promise<ChatReply> {
    for await (const event of this.stream(message, options)) {
      if (event.type === "done") return event.reply;
    }
    throw new BackendError("the chat ended without a reply", "call chat() again; if it repeats, report it");
  }

  /**
   * The turn's events as they arrive (`text`, `tool_call`, `tool_result`, `metrics`,
   * `error`...), then `done` with the reply. Nothing is sent before iteration starts;
   * leaving the loop early, or aborting `signal`, ends the request. Notices go to
   * `onNotice` (or a `TraceNotice` warning) before the request, not into the stream.
   */
  async *stream(message: string, options: ChatOptions = {}): AsyncGenerator<ChatEvent, void, undefined> {
    const mode = oneOf("mode", options.mode ?? "ask", MODES);
    const appType = oneOf("app_type", options.appType ?? "eeschema", APP_TYPES);
    const root = options.projectDir === undefined ? this.#projectDir : projectDir(options.projectDir);
    options.signal?.throwIfAborted();
    const { resolution, resolver } = await this.#resolve(options, root);
    const token = await this.#requireToken();
    for (const notice of resolution.notices) this.#tell(notice); // before the request: no surprise bills
    const backend = await this.#ready();
    const newSessionId = (): string => randomUUID().replaceAll("-", "");
    const body: Record<string, unknown> = {
      message,
      session_id: newSessionId(),
      mode,
      app_type: appType,
      client: "sdk",
    };
    if (options.conversationId !== undefined) body["conversation_id"] = options.conversationId;
    if (root !== undefined) body["project_dir"] = root;
    if (options.filePath !== undefined) body["file_path"] = options.filePath;
    const secrets = [token.reveal()];
    const credential = resolution.credential;
    if (credential !== null) {
      body["llm_provider"] = resolution.provider;
      body["llm_api_key"] = credential.secret.reveal(); // the one place the key leaves
      if (resolution.model !== null) body["llm_model_id"] = resolution.model;
      secrets.push(credential.secret.reveal());
    }
    // Only a helper's key can be fetched again after the provider rejected it.
    const retry: Retry | undefined =
      credential?.kind === "helper"
        ? {
            refresh: async () => resolver.refresh(credential, await this.#settings.load(), "sdk"),
            newSessionId,
            tell: (notice) => this.#tell(notice),
          }
        : undefined;
    const runner = new ModeGuard(this.#runner({ projectDir: root ?? resolvePath("."), mode }), mode);
    yield* runTurn({
      backend,
      body,
      sessionId: String(body["session_id"]),
      token,
      resolution,
      runner,
      context: {
        what: "chat",
        mode,
        provider: credential !== null ? resolution.provider : "trace",
        secrets,
      },
      maxParallel: this.#options.maxParallelTools ?? 4,
      signal: options.signal,
      notices: resolution.notices,
      retry,
    });
  }

  /** Stop the keychain worker thread, if one was started (the client stays usable). */
  close(): void {
    this.#keychain?.close();
  }

  async #resolve(
    options: LlmChoice,
    searchFrom: string | undefined,
  ): Promise<{ resolution: Resolution; resolver: KeyResolution }> {
    const call = toSelection(options, "argument");
    const settings = await this.#settings.load();
    // A project file is looked for from the project directory, else from where the
    // program runs (as the CLI does from its working directory).
    const project = await findProject(this.#projectFiles, searchFrom ?? process.cwd(), settings);
    const context: KeyContext = { settings, project };
    const resolver = this.#resolver(settings);
    return { resolution: await resolver.forRequest(call, this.#defaults, context, "sdk"), resolver };
  }

  #resolver(settings: Settings): KeyResolution {
    return new KeyResolution({
      env: this.#env,
      secrets: this.#secrets(settings),
      helperKeys: () => this.#helpers(settings),
    });
  }

  /** Tell `notice` once per client: to `onNotice`, else as a `TraceNotice` process warning. */
  #tell(notice: Notice): void {
    const seen = JSON.stringify([notice.code, notice.message]);
    if (this.#told.has(seen)) return;
    this.#told.add(seen);
    if (this.#options.onNotice !== undefined) this.#options.onNotice(notice);
    else process.emitWarning(notice.message, { type: "TraceNotice", code: notice.code });
  }

  /** The client's helper keys, built on first need with the settings of that moment. */
  #helpers(settings: Settings): HelperKeys {
    this.#helperKeys ??= new HelperKeys({
      runner:
        this.#options.keyHelper ??
        new SubprocessKeyHelper(this.#env, { timeoutSeconds: settings.helperTimeout ?? DEFAULT_HELPER_TIMEOUT }),
      ttl: settings.helperTtl ?? DEFAULT_HELPER_TTL,
    });
    return this.#helperKeys;
  }

  #secrets(settings: Settings): SecretReader {
    if (this.#options.secrets !== undefined) return this.#options.secrets;
    return secretReaderFor(storeChoice(this.#env, settings), this.#env, this.#configDir, () => {
      this.#keychain ??= keychainFromEnv(this.#env);
      return this.#keychain;
    });
  }

  async #requireToken(): Promise<Secret> {
    if (this.#token !== undefined) return this.#token;
    const fromEnv = nonBlank(this.#env[TRACE_TOKEN_ENV]);
    if (fromEnv !== undefined) return new Secret(fromEnv);
    const stored = await this.#secrets(await this.#settings.load()).get(TRACE_TOKEN_ACCOUNT);
    if (stored === null) throw new NotLoggedInError();
    return stored.secret;
  }

  async #ready(): Promise<HttpBackend> {
    if (this.#backend !== null) return this.#backend;
    const settings = await this.#settings.load();
    const base = this.#options.baseUrl ?? baseUrlFor(this.#env["TRACE_BASE_URL"], settings.backendEnv);
    this.#backend = new HttpBackend({
      baseUrl: baseUrlFor(base, undefined),
      apiVersion: nonBlank(this.#env["TRACE_API_VERSION"]) ?? settings.apiVersion ?? "latest",
      fetch: this.#options.fetch,
      readTimeoutMs: this.#options.readTimeoutMs,
      onWarning: this.#options.onWarning,
    });
    return this.#backend;
  }

  #runner(context: ToolContext): ToolRunner {
    const given = this.#options.toolRunner;
    if (given === undefined) {
      // kicad-cli inherits from the allow-list of this environment only (no key, no token).
      return new LocalToolRunner(context.projectDir, { environment: this.#env, ...this.#options.localTools });
    }
    return typeof given === "function" ? given(context) : given;
  }
}

function oneOf<T extends string>(name: string, value: string, allowed: readonly T[]): T {
  const wanted = value.trim().toLowerCase();
  const found = allowed.find((a) => a === wanted);
  if (found !== undefined) return found;
  const list = allowed.map((a) => `'${a}'`).join(", ");
  throw new InvalidInputError(`${name}=${pyRepr(value.slice(0, 40))} is not one of ${list}`, `pass ${name}= one of ${list}`);
}

function projectDir(path: string): string {
  const resolved = resolvePath(path);
  let isDirectory = false;
  try {
    isDirectory = statSync(resolved).isDirectory();
  } catch {
    isDirectory = false;
  }
  if (!isDirectory) {
    throw new InvalidInputError(
      `project_dir ${pyRepr(path)} is not a directory`,
      "pass projectDir the directory that holds your KiCad project",
    );
  }
  return resolved;
}
