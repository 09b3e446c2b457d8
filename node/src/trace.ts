/**
 * `Trace`: the Node SDK's client. It reads what the `buildwithtrace` CLI stores
 * (config.toml, credentials.json, the OS keychain) and never writes any of it, so a
 * key set once with `buildwithtrace byok set` is used here with no extra step.
 *
 * Precedence per call (the Python SDK's table, tests/shared/resolution-cases.json):
 * `chat(msg, { llmProvider, llmApiKey, llmModelId })`, then `TRACE_LLM_PROVIDER` /
 * `TRACE_LLM_API_KEY` / `TRACE_LLM_MODEL`, then `new Trace({...})` defaults, then the
 * persisted store. The Trace token: `token`, then `TRACE_API_TOKEN`, then the stored login.
 */
import { randomUUID } from "node:crypto";
import { statSync } from "node:fs";
import { resolve as resolvePath } from "node:path";

import { runTurn } from "./chat.js";
import type { SecretReader } from "./config/credentials.js";
import { configDir } from "./config/paths.js";
import { type Settings, type SettingsReader, TomlSettingsReader } from "./config/settings.js";
import { BackendError, InvalidInputError, NotLoggedInError } from "./errors.js";
import type { ChatEvent, ChatReply } from "./events.js";
import { type Fetch, HttpBackend } from "./http/backend.js";
import { baseUrlFor } from "./http/urls.js";
import { TRACE_TOKEN_ACCOUNT, TRACE_TOKEN_ENV, accountOf, isByok } from "./provider.js";
import {
  type LlmChoice,
  type Resolution,
  SDK_ORDER,
  type Selection,
  chooseSelection,
  completeSelection,
  decides,
  environmentSelection,
  resolveKey,
  resolveModel,
  toSelection,
} from "./resolution.js";
import { Secret } from "./secret.js";
import { keychainFromEnv, secretReaderFor, storeChoice } from "./stores.js";
import type { KeychainSecretReader } from "./keychain/reader.js";
import { nonBlank, pyRepr } from "./text.js";
import { LocalToolRunner, type LocalToolRunnerOptions } from "./tools/local-runner.js";
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

/** Options of `resolve`: the per-call provider, key and model. */
export type ResolveOptions = LlmChoice;

const MODES: readonly ChatMode[] = ["ask", "agent", "plan"];
const APP_TYPES: readonly AppType[] = ["eeschema", "pcbnew"];

/** A Trace client: `chat`, `stream`, and `resolve` (what a request would use). */
export class Trace {
  readonly #options: TraceOptions;
  readonly #env: Environment;
  readonly #defaults: Selection | undefined;
  readonly #token: Secret | undefined;
  readonly #projectDir: string | undefined;
  readonly #configDir: string;
  readonly #settings: SettingsReader;
  #keychain: KeychainSecretReader | null = null;
  #backend: HttpBackend | null = null;

  /** Validates every option given (an unknown provider or a malformed key throws here). */
  constructor(options: TraceOptions = {}) {
    this.#options = options;
    this.#env = options.env ?? process.env;
    this.#defaults = toSelection(options, "client");
    this.#token = options.token === undefined ? undefined : Secret.parseToken(options.token);
    this.#projectDir = options.projectDir === undefined ? undefined : projectDir(options.projectDir);
    this.#configDir = configDir(this.#env);
    this.#settings = options.settings ?? new TomlSettingsReader(this.#configDir);
  }

  /** Which provider, key (masked, with its source) and model a chat would use; sends nothing. */
  async resolve(options: ResolveOptions = {}): Promise<Resolution> {
    const call = toSelection(options, "argument");
    const settings = await this.#settings.load();
    const selections: Selection[] = [];
    for (const origin of SDK_ORDER) {
      if (origin === "argument" && call !== undefined) selections.push(call);
      else if (origin === "client" && this.#defaults !== undefined) selections.push(this.#defaults);
      else if (origin === "env" && !selections.some(decides)) {
        // Read TRACE_LLM_* only when the call did not decide: a bad value there must not
        // break a call whose own arguments win.
        selections.push(environmentSelection(this.#env));
      } else if (origin === "config") {
        selections.push({ origin: "config", provider: settings.activeProvider ?? "trace" });
      }
    }
    const winner = chooseSelection(selections);
    const provider = winner.provider ?? "trace";
    let lookup = null;
    if (isByok(provider) && winner.key === undefined) {
      const stored = await this.#secrets(settings).get(accountOf(provider));
      lookup = resolveKey(provider, this.#env, stored);
    }
    const model = resolveModel(provider, call?.model, winner, settings.models[provider]);
    return completeSelection(winner, lookup, model);
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
   * leaving the loop early, or aborting `signal`, ends the request.
   */
  async *stream(message: string, options: ChatOptions = {}): AsyncGenerator<ChatEvent, void, undefined> {
    const mode = oneOf("mode", options.mode ?? "ask", MODES);
    const appType = oneOf("app_type", options.appType ?? "eeschema", APP_TYPES);
    const root = options.projectDir === undefined ? this.#projectDir : projectDir(options.projectDir);
    options.signal?.throwIfAborted();
    const resolution = await this.resolve(options);
    const token = await this.#requireToken();
    const backend = await this.#ready();
    const body: Record<string, unknown> = {
      message,
      session_id: randomUUID().replaceAll("-", ""),
      mode,
      app_type: appType,
      client: "sdk",
    };
    if (options.conversationId !== undefined) body["conversation_id"] = options.conversationId;
    if (root !== undefined) body["project_dir"] = root;
    if (options.filePath !== undefined) body["file_path"] = options.filePath;
    const secrets = [token.reveal()];
    if (resolution.credential !== null) {
      body["llm_provider"] = resolution.provider;
      body["llm_api_key"] = resolution.credential.secret.reveal(); // the one place the key leaves
      if (resolution.model !== null) body["llm_model_id"] = resolution.model;
      secrets.push(resolution.credential.secret.reveal());
    }
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
        provider: resolution.credential !== null ? resolution.provider : "trace",
        secrets,
      },
      maxParallel: this.#options.maxParallelTools ?? 4,
      signal: options.signal,
    });
  }

  /** Stop the keychain worker thread, if one was started (the client stays usable). */
  close(): void {
    this.#keychain?.close();
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
