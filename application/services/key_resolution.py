"""KeyResolution: which key, from where, for a provider (CLI order) or a request (SDK order)."""

from __future__ import annotations

from collections.abc import Sequence

from application.ports import Environment, SecretStore, SettingsStore
from domain.provider import Provider
from domain.resolution import (
    DEFAULT_POLICY,
    SDK_KEY_ENV,
    SDK_MODEL_ENV,
    SDK_PROVIDER_ENV,
    KeyLookup,
    LlmChoice,
    Resolution,
    ResolutionPolicy,
    Selection,
    SelectionOrigin,
    choose_selection,
    complete_selection,
    env_value,
    resolve_key,
    resolve_model,
)
from domain.settings import Settings


class KeyResolution:
    """Which key, from where: the orders of DESIGN section 3 over the stores; reads, never writes.

    A service, not a use-case: every use-case that needs a key (chat, status, use,
    remove, doctor, billing, the SDK's resolve) asks it.
    """

    def __init__(
        self,
        *,
        secrets: SecretStore,
        settings: SettingsStore,
        environment: Environment,
        policy: ResolutionPolicy = DEFAULT_POLICY,
    ) -> None:
        self._secrets = secrets
        self._settings = settings
        self._environment = environment
        self._policy = policy

    def for_provider(self, provider: Provider) -> KeyLookup:
        """The CLI order for ``provider``: env vars, then the secret store."""
        if not provider.is_byok:
            return KeyLookup(provider, None, ())
        env = self._environment.snapshot(provider.spec.env_vars)
        stored = self._secrets.get(provider.account)
        return resolve_key(provider, env, stored, self._policy)

    def for_providers(self, providers: Sequence[Provider]) -> tuple[KeyLookup, ...]:
        """``for_provider`` for each of ``providers``, the store read in one round."""
        byok = [p for p in providers if p.is_byok]
        stored = self._secrets.get_many([p.account for p in byok]) if byok else {}
        return tuple(
            resolve_key(
                provider,
                self._environment.snapshot(provider.spec.env_vars),
                stored[provider.account],
                self._policy,
            )
            if provider.is_byok
            else KeyLookup(provider, None, ())
            for provider in providers
        )

    def for_request(
        self,
        call: LlmChoice | None = None,
        client: LlmChoice | None = None,
        *,
        use_sdk_environment: bool = True,
    ) -> Resolution:
        """The provider, key and model for one request (SDK order; the CLI skips TRACE_LLM_*).

        Raises ``MissingKeyError`` when the chosen BYOK provider has no key, and
        ``AmbiguousCredentialError`` for a key given without a provider.
        """
        call_selection = call.selection(SelectionOrigin.ARGUMENTS) if call else None
        given = {
            SelectionOrigin.ARGUMENTS: call_selection,
            SelectionOrigin.CLIENT: client.selection(SelectionOrigin.CLIENT) if client else None,
        }
        settings = self._settings.load()
        selections: list[Selection] = []
        for origin in self._policy.sdk_order:
            if origin is SelectionOrigin.ENVIRONMENT:
                decided = any(s.provider is not None or s.key is not None for s in selections)
                if use_sdk_environment and not decided:
                    # Read TRACE_LLM_* only when no earlier source decided: a bad value
                    # there must not break a call whose own arguments win.
                    selections.append(self._environment_selection())
            elif origin is SelectionOrigin.PERSISTED:
                selections.append(Selection(SelectionOrigin.PERSISTED, settings.provider))
            elif (selection := given.get(origin)) is not None:
                selections.append(selection)
        winner = choose_selection(selections, self._policy)
        provider = winner.provider or Provider.TRACE
        lookup = None
        if provider.is_byok and winner.key is None:
            lookup = self.for_provider(provider)
        per_call_model = call_selection.model if call_selection else None
        model = resolve_model(
            provider, per_call_model, winner, self._remembered(settings, provider)
        )
        return complete_selection(winner, lookup, model)

    def _environment_selection(self) -> Selection:
        env = self._environment.snapshot((SDK_PROVIDER_ENV, SDK_KEY_ENV, SDK_MODEL_ENV))
        # The environment is an edge too: TRACE_LLM_* are parsed here, where they are read.
        choice = LlmChoice.parse(
            env_value(env, SDK_PROVIDER_ENV),
            env_value(env, SDK_KEY_ENV),
            env_value(env, SDK_MODEL_ENV),
        )
        return (choice or LlmChoice()).selection(SelectionOrigin.ENVIRONMENT)

    @staticmethod
    def _remembered(settings: Settings, provider: Provider) -> str | None:
        return settings.model_for(provider)
