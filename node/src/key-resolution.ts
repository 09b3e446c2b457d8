/**
 * Which key, from where, for a request: the orders of `resolution.ts` over what the
 * stores, the environment and the project file hold (the Python side's
 * `application/services/key_resolution.py`, `for_request` and its helpers). Reads,
 * never writes; runs a helper only when the winning key comes from one.
 */
import type { SecretReader } from "./config/credentials.js";
import type { ProjectFileFinder } from "./config/project-files.js";
import type { Settings } from "./config/settings.js";
import { KeyHelperError, TraceError } from "./errors.js";
import type { HelperKeys } from "./helpers/helper-keys.js";
import { type HelperReason, KeyRef } from "./keys.js";
import { checkEnvOverride, type NoticeFacts, resolutionNotices } from "./notices.js";
import { type ProjectUse, applies, projectUse } from "./project.js";
import { type ProviderName, isByok, providerSpec } from "./provider.js";
import {
  type Credential,
  type Decision,
  type KeyLookup,
  type KeySource,
  type Resolution,
  SDK_ORDER,
  type Selection,
  type SelectionOrigin,
  chooseKeyName,
  chooseSelection,
  completeSelection,
  decides,
  environmentSelection,
  isStored,
  missingKey,
  pendingSource,
  resolveKey,
  resolveModel,
} from "./resolution.js";

type Env = Readonly<Record<string, string | undefined>>;

/** What a lookup needs besides the provider: the settings and the project file, read once. */
export interface KeyContext {
  readonly settings: Settings;
  readonly project: ProjectUse | null;
}

/** The stores and services one resolution reads. */
export interface KeySources {
  readonly env: Env;
  readonly secrets: SecretReader;
  /** The client's helper keys (built on first need). */
  readonly helperKeys: () => HelperKeys;
}

/** The stated sources of a context: the allowed project file, the stored settings. */
function statedSelections(context: KeyContext): Selection[] {
  const found: Selection[] = [{ origin: "config", provider: context.settings.activeProvider ?? "trace" }];
  const project = context.project;
  if (project !== null && applies(project)) {
    const chosen = project.selection;
    found.unshift({
      origin: "project",
      provider: chosen.provider ?? undefined,
      model: chosen.model ?? undefined,
      keyName: chosen.keyName ?? undefined,
      chosenBy: project.path,
    });
  }
  return found;
}

/** The project file for `directory` with its state; null when there is none. */
export async function findProject(
  finder: ProjectFileFinder,
  directory: string,
  settings: Settings,
): Promise<ProjectUse | null> {
  const found = await finder.find(directory);
  return found === null ? null : projectUse(found, settings.allowedProjects ?? {});
}

/** The provider, key and model for one request (the SDK order); see `Trace.resolve`. */
export class KeyResolution {
  readonly #sources: KeySources;

  constructor(sources: KeySources) {
    this.#sources = sources;
  }

  /**
   * The request's resolution. `overrides` names the user's own key an environment
   * variable displaced (with `keys.env_override = error` that throws `EnvOverrideError`);
   * a winning helper runs (`reason`). Throws `MissingKeyError` (`MissingNamedKeyError`),
   * `AmbiguousCredentialError`, `KeyHelperError`.
   */
  async forRequest(
    call: Selection | undefined,
    client: Selection | undefined,
    context: KeyContext,
    reason: HelperReason = "sdk",
  ): Promise<Resolution> {
    const decision = await this.#decide(call, client, context, false);
    const overrides = await this.#overrides(decision, call, client, context);
    const facts: NoticeFacts = {
      provider: decision.provider,
      credential: decision.credential,
      project: context.project,
      overrides,
    };
    checkEnvOverride(facts, context.settings.envOverride ?? "warn");
    let credential = decision.credential;
    if (decision.pending !== null) credential = await this.#sources.helperKeys().fetch(decision.pending, reason);
    return {
      provider: decision.provider,
      credential,
      model: decision.model,
      modelSource: decision.modelSource,
      origin: decision.origin,
      billing: providerSpec(decision.provider).billing,
      keySource: credential?.source ?? null,
      maskedKey: credential?.secret.masked() ?? null,
      project: context.project,
      overrides: overrides?.source ?? null,
      notices: resolutionNotices(facts),
    };
  }

  /**
   * The CLI order for `provider`'s chosen key: `name` if given (chosen "by the command
   * line"), else the one `context` chooses (its project file, `byok use --name`), else
   * the default key. Runs no helper.
   */
  async forProvider(provider: ProviderName, context: KeyContext, name: string | null = null): Promise<KeyLookup> {
    let chosen: [string | null, string | null] = [name, "the command line"];
    if (name === null) chosen = chooseKeyName(provider, statedSelections(context), context.settings.keyNames ?? {});
    return this.#lookup(provider, context.settings, chosen[0], chosen[1], this.#sources.env);
  }

  /** The key of `lookup`: its winner, else its pending helper run (`reason`); throws `MissingKeyError`, `KeyHelperError`. */
  async fetch(lookup: KeyLookup, reason: HelperReason): Promise<Credential> {
    if (lookup.winner !== null) return lookup.winner;
    if (lookup.pending !== null) return this.#sources.helperKeys().fetch(lookup.pending, reason);
    throw missingKey(lookup);
  }

  /**
   * A new key from the helper that supplied `credential` (the provider rejected it);
   * throws `KeyHelperError` when it did not come from a helper or the helper is gone.
   */
  async refresh(credential: Credential, settings: Settings, reason: HelperReason): Promise<Credential> {
    const ref = new KeyRef(credential.provider, credential.keyName);
    const helper = settings.helpers?.[ref.label];
    if (credential.kind !== "helper" || helper === undefined) {
      throw new KeyHelperError(
        ref.label,
        "the key did not come from a helper, so it cannot be fetched again",
        `store a working key: ${ref.setCommand}`,
      );
    }
    return this.#sources.helperKeys().refresh({ ref, helper }, reason);
  }

  /** The pure decision over what was read; `noEnv`: as if no variable were set. */
  async #decide(
    call: Selection | undefined,
    client: Selection | undefined,
    context: KeyContext,
    noEnv: boolean,
  ): Promise<Decision> {
    const given: Partial<Record<SelectionOrigin, Selection>> = { argument: call, client };
    const stated = Object.fromEntries(statedSelections(context).map((s) => [s.origin, s]));
    const selections: Selection[] = [];
    for (const origin of SDK_ORDER) {
      if (origin === "env") {
        // Read TRACE_LLM_* only when no earlier source decided: a bad value there must
        // not break a call whose own arguments win.
        if (!noEnv && !selections.some(decides)) selections.push(environmentSelection(this.#sources.env));
        continue;
      }
      const selection = given[origin] ?? stated[origin];
      if (selection !== undefined) selections.push(selection);
    }
    const winner = chooseSelection(selections);
    const provider = winner.provider ?? "trace";
    let lookup: KeyLookup | null = null;
    if (isByok(provider) && winner.key === undefined) {
      const [name, chosenBy] = chooseKeyName(provider, selections, context.settings.keyNames ?? {});
      lookup = await this.#lookup(provider, context.settings, name, chosenBy, noEnv ? {} : this.#sources.env);
    }
    const model = resolveModel(provider, call?.model, winner, context.settings.models[provider]);
    return completeSelection(winner, lookup, model);
  }

  /** The user's own key that would answer without any variable (same provider, or the project file's pick TRACE_LLM_PROVIDER switched from). */
  async #overrides(
    decision: Decision,
    call: Selection | undefined,
    client: Selection | undefined,
    context: KeyContext,
  ): Promise<KeySource | null> {
    if (decision.credential === null || decision.credential.kind !== "env") return null;
    let without: Decision;
    try {
      without = await this.#decide(call, client, context, true);
    } catch (error) {
      if (error instanceof TraceError) return null; // without the environment there is no key
      throw error;
    }
    // Another provider, chosen on purpose: nothing of it displaced. But TRACE_LLM_PROVIDER
    // switching away from an allowed project file's pick moves the project's bill, so tell.
    if (without.provider !== decision.provider && (decision.origin !== "env" || without.origin !== "project")) {
      return null;
    }
    const source = without.credential ?? (without.pending === null ? null : pendingSource(without.pending));
    return source !== null && isStored(source) ? { source: source.source, kind: source.kind, keyName: source.keyName } : null;
  }

  async #lookup(
    provider: ProviderName,
    settings: Settings,
    name: string | null,
    chosenBy: string | null,
    env: Env,
  ): Promise<KeyLookup> {
    const ref = new KeyRef(provider, name);
    const helper = settings.helpers?.[ref.label] ?? null;
    // The store is read even when a helper or a variable wins, as the Python side does
    // (its status shows what they shadow): a broken store is reported either way.
    const stored = await this.#sources.secrets.get(ref.account);
    return resolveKey(provider, env, stored, { helper, keyName: name, chosenBy });
  }
}
