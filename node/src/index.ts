/**
 * buildwithtrace for Node: Trace's AI for electronics design, with your own model key.
 *
 *     import { Trace } from "buildwithtrace";
 *     const trace = new Trace();
 *     const reply = await trace.chat("Which nets does U1 connect to?");
 *     console.log(reply.text, reply.provider, reply.keySource, reply.billing);
 */
export { Trace } from "./trace.js";
export type { AppType, ChatOptions, Environment, ResolveOptions, TraceOptions, VerifyOptions } from "./trace.js";
export type { KeyVerification, Verdict } from "./verify.js";
export type {
  ChatEvent,
  ChatReply,
  DoneEvent,
  FileEditEvent,
  MetricsEvent,
  StatusEvent,
  StreamErrorEvent,
  TextEvent,
  ThinkingEvent,
  ToolCallEvent,
  ToolResult,
  ToolResultEvent,
  ToolRun,
} from "./events.js";
export type {
  Credential,
  LlmChoice,
  ModelSource,
  Resolution,
  SelectionOrigin,
  SourceKind,
  StoredSecret,
} from "./resolution.js";
export { CLI_ORDER, KEY_NAME_ORDER, SDK_ORDER } from "./resolution.js";
export { HelperCommand, KeyRef, parseKeyName } from "./keys.js";
export type { HelperReason } from "./keys.js";
export type { Notice, NoticeCode } from "./notices.js";
export type { ProjectFile, ProjectSelection, ProjectState, ProjectUse } from "./project.js";
export { LocalProjectFiles, MemoryProjectFiles } from "./config/project-files.js";
export type { ProjectFileFinder } from "./config/project-files.js";
export { SubprocessKeyHelper } from "./helpers/subprocess.js";
export type { KeyHelper } from "./helpers/subprocess.js";
export { ScriptedKeyHelper } from "./helpers/scripted.js";
export type { ScriptedAnswer, ScriptedRun } from "./helpers/scripted.js";
export { PROVIDERS } from "./provider.js";
export type { BillingMode, ProviderName, ProviderSpec } from "./provider.js";
export { Secret } from "./secret.js";
export { MemorySecretStore } from "./config/credentials.js";
export type { SecretReader } from "./config/credentials.js";
export { MemorySettingsStore } from "./config/settings.js";
export type { Settings, SettingsReader, StoreChoice } from "./config/settings.js";
export type { Fetch } from "./http/backend.js";
export { LocalToolRunner, ModeGuard, NoLocalToolsRunner, READ_ONLY_TOOLS, TOOL_NAMES } from "./tools/index.js";
export type { ChatMode, LocalToolRunnerOptions, ToolContext, ToolRunner } from "./tools/index.js";
export {
  AmbiguousCredentialError,
  AuthenticationRejectedError,
  BackendError,
  BackendUnavailableError,
  CorruptFileError,
  InsecurePermissionsError,
  InsecureTransportError,
  InvalidInputError,
  InvalidKeyError,
  InvalidTokenError,
  InvalidModelError,
  InvalidSettingError,
  KeychainUnavailableError,
  LoginFailedError,
  DeviceLoginUnavailableError,
  EnvOverrideError,
  KeyHelperError,
  KeyRejectedError,
  MissingConfigurationError,
  MissingKeyError,
  MissingNamedKeyError,
  NotLoggedInError,
  PlanRestrictionError,
  ProjectFileError,
  ProtocolError,
  ProviderUnreachableError,
  QuotaExhaustedError,
  StorageError,
  TraceError,
  UnknownProviderError,
  UnreadableFileError,
  UntrustedLocationError,
} from "./errors.js";
