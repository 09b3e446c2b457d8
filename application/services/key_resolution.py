"""KeyResolution: which key, from where, for a provider (CLI order) or a request (SDK order)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import attrs

from application.ports import Environment, ProjectFiles, SecretStore, SettingsStore
from application.services.helper_keys import HelperKeys
from domain.credential import Credential, KeySource, SourceKind, StoredSecret
from domain.errors import KeyHelperError, TraceError
from domain.keys import HelperReason, KeyRef
from domain.notices import check_env_override
from domain.project import ProjectUse
from domain.provider import Provider
from domain.resolution import (
    DEFAULT_POLICY,
    SDK_KEY_ENV,
    SDK_MODEL_ENV,
    SDK_PROVIDER_ENV,
    KeyLookup,
    LlmChoice,
    PendingKey,
    Resolution,
    ResolutionPolicy,
    Selection,
    SelectionOrigin,
    choose_key_name,
    choose_selection,
    complete_selection,
    env_value,
    resolve_key,
    resolve_model,
)
from domain.settings import Settings
from domain.value import Value


@attrs.frozen(eq=False, repr=False)
class KeyContext(Value):
    """What a lookup needs besides the provider: the settings and the project file, read once."""

    settings: Settings
    project: ProjectUse | None = None

    def selections(self) -> tuple[Selection, ...]:
        """The stated sources: the allowed project file, the stored settings."""
        found = [Selection(SelectionOrigin.PERSISTED, self.settings.provider)]
        project = self.project
        if project is not None and project.applies:
            chosen = project.selection
            found.insert(
                0,
                Selection(
                    SelectionOrigin.PROJECT,
                    chosen.provider,
                    model=chosen.model,
                    key_name=chosen.key_name,
                    chosen_by=project.path,
                ),
            )
        return tuple(found)


class KeyResolution:
    """Which key, from where: the orders of DESIGN section 3 over the stores; reads, never writes.

    A service, not a use-case: every use-case that needs a key (chat, status, use,
    remove, doctor, billing, verify, the SDK's resolve) asks it. Helpers run only
    through :meth:`fetch` / :meth:`for_request` (never for a status that did not ask).
    """

    def __init__(
        self,
        *,
        secrets: SecretStore,
        settings: SettingsStore,
        environment: Environment,
        policy: ResolutionPolicy = DEFAULT_POLICY,
        helper_keys: HelperKeys | None = None,
        project_files: ProjectFiles | None = None,
    ) -> None:
        self._secrets = secrets
        self._settings = settings
        self._environment = environment
        self._policy = policy
        self._helper_keys = helper_keys
        self._project_files = project_files

    # --- one provider (the CLI order) -------------------------------------------

    def context(self, project_dir: str | None = None) -> KeyContext:
        """The settings and the project file for ``project_dir`` (none when not given).

        Raises ``ProjectFileError`` for a hostile or invalid project file.
        """
        settings = self._settings.load()
        return KeyContext(settings, self.project(project_dir, settings))

    def project(self, project_dir: str | None, settings: Settings) -> ProjectUse | None:
        """The project file that applies to ``project_dir``, with its state; None if none."""
        if project_dir is None or self._project_files is None:
            return None
        found = self._project_files.find(project_dir)
        return found.use(settings.allowed_projects) if found is not None else None

    def for_provider(
        self, provider: Provider, context: KeyContext | None = None, *, name: str | None = None
    ) -> KeyLookup:
        """The CLI order for ``provider``: env vars, then the chosen key's helper, then its
        stored secret. The chosen key: ``name`` if given, else the one ``context`` chooses
        (project file, ``byok use --name``), else the default key. Runs no helper."""
        if not provider.is_byok:
            return KeyLookup(provider, None, ())
        if context is None:
            context = KeyContext(self._settings.load())
        chosen_by: str | None = "the command line"
        if name is None:
            name, chosen_by = choose_key_name(
                provider, context.selections(), context.settings.key_names, self._policy
            )
        env = self._provider_env(provider)
        return self._lookup(
            provider, context.settings, name, chosen_by, env, self._stored(provider, name)
        )

    def for_key(self, ref: KeyRef, *, use_env: bool = True) -> KeyLookup:
        """The CLI order for exactly ``ref`` (no name chosen for it); ``use_env=False``: its
        own helper or stored secret only. Runs no helper."""
        if not ref.provider.is_byok:
            return KeyLookup(ref.provider, None, ())
        env = self._provider_env(ref.provider) if use_env else {}
        settings = self._settings.load()
        stored = self._stored(ref.provider, ref.name)
        return self._lookup(ref.provider, settings, ref.name, "the command line", env, stored)

    def for_status(
        self, context: KeyContext, named: Sequence[KeyRef] = ()
    ) -> tuple[tuple[KeyLookup, ...], tuple[KeyLookup, ...]]:
        """What ``byok status`` shows: :meth:`for_provider` for every provider, then
        :meth:`for_key` (``use_env=False``) for each of ``named``, with the secret store
        read in one round (the keychain answers every account in one search). Runs no
        helper."""
        wanted: list[tuple[Provider, str | None, str | None, Mapping[str, str]]] = []
        for provider in Provider:
            if provider.is_byok:
                name, chosen_by = choose_key_name(
                    provider, context.selections(), context.settings.key_names, self._policy
                )
                wanted.append((provider, name, chosen_by, self._provider_env(provider)))
        wanted += [(ref.provider, ref.name, "the command line", {}) for ref in named]
        accounts = list(dict.fromkeys(KeyRef(p, name).account for p, name, _, _ in wanted))
        stored = self._secrets.get_many(accounts) if accounts else {}
        found = [
            self._lookup(p, context.settings, name, by, env, stored[KeyRef(p, name).account])
            for p, name, by, env in wanted
        ]
        chosen = iter(found[: len(found) - len(named)])
        rows = tuple(next(chosen) if p.is_byok else KeyLookup(p, None, ()) for p in Provider)
        return rows, tuple(found[len(found) - len(named) :])

    def fetch(self, lookup: KeyLookup, reason: HelperReason) -> KeyLookup:
        """``lookup`` with its pending helper run (its key then known); unchanged otherwise.

        Raises ``KeyHelperError`` when the helper fails.
        """
        if lookup.pending is None:
            return lookup
        credential = self._helpers().fetch(lookup.pending, reason)
        return attrs.evolve(lookup, winner=credential, pending=None)

    def fetch_pending(self, pending: PendingKey, reason: HelperReason) -> Credential:
        """Run (or reuse) ``pending``'s helper. Raises ``KeyHelperError``."""
        return self._helpers().fetch(pending, reason)

    def refresh(self, credential: Credential, reason: HelperReason) -> Credential:
        """A new key from the helper that supplied ``credential`` (the provider rejected it).

        Raises ``KeyHelperError`` when the helper is gone or fails.
        """
        ref = KeyRef(credential.provider, credential.source.key_name)
        helper = self._settings.load().helper_for(ref)
        if credential.source.kind is not SourceKind.HELPER or helper is None:
            raise KeyHelperError(
                ref.label,
                "the key did not come from a helper, so it cannot be fetched again",
                f"store a working key: buildwithtrace byok set {ref.provider.value}"
                + (f" --name {ref.name}" if ref.name is not None else ""),
            )
        return self._helpers().refresh(PendingKey(ref, helper), reason)

    def forget(self, ref: KeyRef) -> None:
        """Drop a helper key held in memory for ``ref`` (after a change to it)."""
        if self._helper_keys is not None:
            self._helper_keys.forget(ref)

    # --- one request (the SDK order) ------------------------------------------------

    def for_request(
        self,
        call: LlmChoice | None = None,
        client: LlmChoice | None = None,
        *,
        use_sdk_environment: bool = True,
        project_dir: str | None = None,
        reason: HelperReason = HelperReason.SDK,
    ) -> Resolution:
        """The provider, key and model for one request (SDK order; the CLI skips TRACE_LLM_*).

        A helper that supplies the key is run (``reason`` tells it why). ``overrides``
        names the user's own key an environment variable displaced; with
        ``keys.env_override = error`` that raises ``EnvOverrideError`` instead. Raises
        ``MissingKeyError`` when the chosen BYOK provider has no key,
        ``AmbiguousCredentialError`` for a key given without a provider,
        ``ProjectFileError`` for a hostile project file, ``KeyHelperError``.
        """
        context = self.context(project_dir)
        resolution = self._decide(call, client, context, use_environment=use_sdk_environment)
        resolution = attrs.evolve(
            resolution,
            project=context.project,
            overrides=self._overrides(resolution, call, client, context),
        )
        check_env_override(resolution, context.settings.env_override_policy)
        if resolution.pending is not None:
            credential = self._helpers().fetch(resolution.pending, reason)
            resolution = attrs.evolve(resolution, credential=credential, pending=None)
        return resolution

    # --- internals --------------------------------------------------------------------

    def _decide(
        self,
        call: LlmChoice | None,
        client: LlmChoice | None,
        context: KeyContext,
        *,
        use_environment: bool,
        no_env: bool = False,
    ) -> Resolution:
        """The pure decision over what was read; ``no_env``: as if no variable were set."""
        call_selection = call.selection(SelectionOrigin.ARGUMENTS) if call else None
        given = {
            SelectionOrigin.ARGUMENTS: call_selection,
            SelectionOrigin.CLIENT: client.selection(SelectionOrigin.CLIENT) if client else None,
        }
        stated = {s.origin: s for s in context.selections()}
        selections: list[Selection] = []
        for origin in self._policy.sdk_order:
            if origin is SelectionOrigin.ENVIRONMENT:
                decided = any(s.provider is not None or s.key is not None for s in selections)
                if use_environment and not decided and not no_env:
                    # Read TRACE_LLM_* only when no earlier source decided: a bad value
                    # there must not break a call whose own arguments win.
                    selections.append(self._environment_selection())
            elif (selection := given.get(origin) or stated.get(origin)) is not None:
                selections.append(selection)
        winner = choose_selection(selections, self._policy)
        provider = winner.provider or Provider.TRACE
        lookup = None
        if provider.is_byok and winner.key is None:
            name, chosen_by = choose_key_name(
                provider, selections, context.settings.key_names, self._policy
            )
            env = {} if no_env else self._provider_env(provider)
            stored = self._stored(provider, name)
            lookup = self._lookup(provider, context.settings, name, chosen_by, env, stored)
        per_call_model = call_selection.model if call_selection else None
        model = resolve_model(
            provider, per_call_model, winner, context.settings.model_for(provider)
        )
        return complete_selection(winner, lookup, model)

    def _overrides(
        self,
        resolution: Resolution,
        call: LlmChoice | None,
        client: LlmChoice | None,
        context: KeyContext,
    ) -> KeySource | None:
        """The user's own key that would answer without any variable: for the same provider,
        or the project file's pick that TRACE_LLM_PROVIDER switched away from."""
        credential = resolution.credential
        if credential is None or credential.source.kind is not SourceKind.ENV:
            return None
        try:
            without = self._decide(call, client, context, use_environment=False, no_env=True)
        except TraceError:
            return None  # without the environment there is no key: nothing was displaced
        if without.provider is not resolution.provider and (
            resolution.origin is not SelectionOrigin.ENVIRONMENT
            or without.origin is not SelectionOrigin.PROJECT
        ):
            # Another provider, chosen on purpose: nothing of it displaced. But
            # TRACE_LLM_PROVIDER switching away from an allowed project file's pick moves
            # the project's bill to another account, so that is told too.
            return None
        source = without.credential.source if without.credential else None
        if source is None and without.pending is not None:
            source = without.pending.source
        return source if source is not None and source.is_stored else None

    def _lookup(
        self,
        provider: Provider,
        settings: Settings,
        name: str | None,
        chosen_by: str | None,
        env: Mapping[str, str],
        stored: StoredSecret | None,
    ) -> KeyLookup:
        helper = settings.helper_for(KeyRef(provider, name))
        return resolve_key(
            provider,
            env,
            stored,
            self._policy,
            helper=helper,
            key_name=name,
            chosen_by=chosen_by if name is not None else None,
        )

    def _stored(self, provider: Provider, name: str | None) -> StoredSecret | None:
        # Read even when a helper wins: status shows what the helper shadows.
        return self._secrets.get(KeyRef(provider, name).account)

    def _provider_env(self, provider: Provider) -> dict[str, str]:
        return self._environment.snapshot(provider.spec.env_vars)

    def _environment_selection(self) -> Selection:
        env = self._environment.snapshot((SDK_PROVIDER_ENV, SDK_KEY_ENV, SDK_MODEL_ENV))
        # The environment is an edge too: TRACE_LLM_* are parsed here, where they are read.
        choice = LlmChoice.parse(
            env_value(env, SDK_PROVIDER_ENV),
            env_value(env, SDK_KEY_ENV),
            env_value(env, SDK_MODEL_ENV),
        )
        return (choice or LlmChoice()).selection(SelectionOrigin.ENVIRONMENT)

    def _helpers(self) -> HelperKeys:
        if self._helper_keys is None:
            raise KeyHelperError(
                "key helper",
                "this client cannot run key helpers",
                "use a client that runs them: Trace() in Python, or the CLI",
            )
        return self._helper_keys
