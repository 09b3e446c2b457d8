"""SetKey: store a provider's key (or the helper command that prints it) and make it active."""

from __future__ import annotations

import attrs

from application.key_shape import key_shape_warning
from application.ports import Environment, KeyVerifier, SecretStore, SettingsStore
from application.services.key_resolution import KeyResolution
from domain.credential import KeySource, StoredSecret
from domain.errors import InvalidInputError, KeyRejectedError, StorageError
from domain.keys import HelperCommand, HelperReason, KeyRef
from domain.provider import Provider
from domain.resolution import PendingKey, resolve_key
from domain.secret import Secret
from domain.settings import Settings
from domain.value import Value
from domain.verification import KeyVerification, Verdict


@attrs.frozen(eq=False, repr=False)
class SetKeyResult(Value):
    """What ``SetKey`` did: where the key (or its helper) went and what the user should know.

    ``stored`` is None when a helper supplies the key (the command went to config.toml).
    ``verification``: the provider's verdict, when ``verify`` was asked.
    """

    provider: Provider
    stored: StoredSecret | None
    warnings: tuple[str, ...]
    overridden_by: KeySource | None
    key_name: str | None = None
    helper: HelperCommand | None = None
    verification: KeyVerification | None = None

    @property
    def ref(self) -> KeyRef:
        """The key that was set."""
        return KeyRef(self.provider, self.key_name)


class SetKey:
    """Validate (and optionally verify) a key or helper, store it, then make it active."""

    def __init__(
        self,
        *,
        secrets: SecretStore,
        settings: SettingsStore,
        environment: Environment,
        key_resolution: KeyResolution | None = None,
        verifier: KeyVerifier | None = None,
    ) -> None:
        self._secrets = secrets
        self._settings = settings
        self._environment = environment
        self._key_resolution = key_resolution
        self._verifier = verifier

    def execute(
        self,
        provider: Provider,
        source: Secret | HelperCommand,
        *,
        name: str | None = None,
        verify: bool = False,
        force: bool = False,
    ) -> SetKeyResult:
        """Store ``source`` (a key, or the helper command printing it) as ``provider``'s key
        (named ``name``, else the default one) and make it active; nothing changes on failure.

        With ``verify`` the provider's models endpoint checks the key first (a helper is
        run for that, with reason ``verify``): a rejected key raises ``KeyRejectedError``
        unless ``force``; an unreachable provider only warns.
        """
        if not provider.is_byok:
            raise InvalidInputError(
                "Trace-hosted models need no key", "buildwithtrace byok use trace"
            )
        ref = KeyRef(provider, name)
        # Read the settings first: a corrupt config must stop us before the key is stored.
        self._settings.load()
        if self._key_resolution is not None:
            self._key_resolution.forget(ref)  # a key held for the old command is stale
        warnings: list[str] = []
        verification = self._verify(ref, source, force, warnings) if verify else None
        if isinstance(source, Secret):
            stored: StoredSecret | None = self._secrets.set(ref.account, source)
            self._settings.update(lambda s: _activate(s.with_key(ref, None), ref))
            warning = key_shape_warning(provider, source)
            if warning:
                warnings.insert(0, warning)
        else:
            stored = None
            self._settings.update(lambda s: _activate(s.with_key(ref, source), ref))
            warnings.extend(self._drop_stored(ref))
        return SetKeyResult(
            provider=provider,
            stored=stored,
            warnings=tuple(warnings),
            overridden_by=self._overriding_env(provider),
            key_name=name,
            helper=source if isinstance(source, HelperCommand) else None,
            verification=verification,
        )

    def _verify(
        self, ref: KeyRef, source: Secret | HelperCommand, force: bool, warnings: list[str]
    ) -> KeyVerification:
        if self._verifier is None or self._key_resolution is None:
            raise InvalidInputError(
                "this client cannot verify keys", "set the key without verify=True"
            )
        if isinstance(source, HelperCommand):
            secret = self._key_resolution.fetch_pending(
                PendingKey(ref, source), HelperReason.VERIFY
            ).secret
        else:
            secret = source
        found = self._verifier.verify(ref.provider, secret)
        if found.verdict is Verdict.REJECTED and not force:
            raise KeyRejectedError(ref.provider.value, found.status or 401, stored=False)
        if found.verdict is Verdict.REJECTED:
            warnings.append(
                f"{ref.provider.value} rejected the key (HTTP {found.status}); stored anyway "
                "(--force)"
            )
        elif found.verdict is Verdict.UNREACHABLE:
            warnings.append(
                f"could not check the key with {ref.provider.value} ({found.detail}); "
                "stored it unverified"
            )
        return found

    def _drop_stored(self, ref: KeyRef) -> list[str]:
        """Delete a stored secret the helper replaces, so only one source is configured."""
        try:
            self._secrets.delete(ref.account)
        except StorageError as exc:
            return [
                f"the {ref.label} key stored before could not be removed ({exc.problem}); "
                "the helper takes precedence over it"
            ]
        return []

    def _overriding_env(self, provider: Provider) -> KeySource | None:
        # The CLI order with no stored key: its winner, if any, is the overriding variable.
        env = self._environment.snapshot(provider.spec.env_vars)
        winner = resolve_key(provider, env, None).winner
        return winner.source if winner else None


def _activate(settings: Settings, ref: KeyRef) -> Settings:
    """``ref``'s provider active, with ``ref`` as the key it uses."""
    return settings.with_active(ref.provider).with_key_name(ref.provider, ref.name)
