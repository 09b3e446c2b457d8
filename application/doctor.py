"""Doctor: local health checks, each with a verdict and the fix."""

from __future__ import annotations

import enum

import attrs

from application.ports import Environment, SecretStore, SettingsStore
from application.services.key_resolution import KeyResolution
from domain.credential import SourceKind
from domain.errors import MissingKeyError, NotLoggedInError, StorageError, TraceError
from domain.provider import TRACE_TOKEN_ACCOUNT, TRACE_TOKEN_ENV, Provider
from domain.resolution import KeyLookup, env_value
from domain.settings import Settings
from domain.value import Value


class Verdict(enum.Enum):
    """How a check came out."""

    OK = "ok"
    WARN = "warn"
    FAIL = "fail"


@attrs.frozen(eq=False, repr=False)
class DoctorCheck(Value):
    """One check: its verdict, what was found, and the fix (with the error behind a failure)."""

    name: str
    verdict: Verdict
    detail: str
    fix: str = ""
    error: TraceError | None = attrs.field(default=None, eq=False, repr=False)


@attrs.frozen(eq=False, repr=False)
class DoctorReport(Value):
    """All checks; ``failure`` is the first failing check's error (it sets the exit code)."""

    checks: tuple[DoctorCheck, ...]

    @property
    def failure(self) -> TraceError | None:
        """The error behind the first failed check, if any."""
        return next((c.error for c in self.checks if c.verdict is Verdict.FAIL), None)


class Doctor:
    """Diagnose config, secret store, active provider, env overrides and login."""

    def __init__(
        self,
        *,
        secrets: SecretStore,
        settings: SettingsStore,
        environment: Environment,
        key_resolution: KeyResolution,
    ) -> None:
        self._secrets = secrets
        self._settings = settings
        self._environment = environment
        self._key_resolution = key_resolution

    def execute(self) -> DoctorReport:
        """Run every check; never raises for a failed check (it is reported instead)."""
        checks: list[DoctorCheck] = []
        settings = self._check_config(checks)
        checks.extend(self._check_stores())
        if settings is not None:
            lookups = self._lookups()
            checks.append(self._check_active(settings, lookups))
            checks.extend(self._check_shadowing(lookups))
        checks.append(self._check_login())
        return DoctorReport(tuple(checks))

    def _check_stores(self) -> list[DoctorCheck]:
        store_checks = self._secrets.check()
        # A keychain failure is only a warning when a file store stands behind it.
        has_fallback = any(c.name == "file" for c in store_checks)
        found = []
        for check in store_checks:
            name = f"secret store: {check.name}"
            if check.ok:
                found.append(DoctorCheck(name, Verdict.OK, check.detail))
            elif check.name == "keychain" and has_fallback:
                found.append(
                    DoctorCheck(
                        name,
                        Verdict.WARN,
                        f"{check.detail}; secrets go to the file store instead",
                        "unlock or start the keychain (docs/security.md) to keep keys there",
                    )
                )
            else:
                error = check.error or StorageError(check.detail)
                found.append(DoctorCheck(name, Verdict.FAIL, error.problem, error.fix, error))
        return found

    def _check_config(self, checks: list[DoctorCheck]) -> Settings | None:
        where = self._settings.location()
        try:
            settings = self._settings.load()
        except TraceError as exc:
            checks.append(DoctorCheck("config", Verdict.FAIL, exc.problem, exc.fix, exc))
            return None
        checks.append(DoctorCheck("config", Verdict.OK, f"{where} is readable"))
        return settings

    def _lookups(self) -> dict[Provider, KeyLookup | TraceError]:
        """Each BYOK provider's key, resolved once for both checks that need it."""
        found: dict[Provider, KeyLookup | TraceError] = {}
        for provider in Provider.byok():
            try:
                found[provider] = self._key_resolution.for_provider(provider)
            except TraceError as exc:
                found[provider] = exc
        return found

    def _check_active(
        self, settings: Settings, lookups: dict[Provider, KeyLookup | TraceError]
    ) -> DoctorCheck:
        provider = settings.provider
        payer = provider.spec.billing.describe(provider.spec.label)
        if not provider.is_byok:
            return DoctorCheck("active provider", Verdict.OK, f"trace: billed to {payer}")
        lookup = lookups[provider]
        if isinstance(lookup, TraceError):
            return DoctorCheck("active provider", Verdict.FAIL, lookup.problem, lookup.fix, lookup)
        winner = lookup.winner
        if winner is None:
            error = MissingKeyError(provider.value, provider.spec.env_vars)
            return DoctorCheck("active provider", Verdict.FAIL, error.problem, error.fix, error)
        return DoctorCheck(
            "active provider",
            Verdict.OK,
            f"{provider.value}: key {winner.secret.masked()} from {winner.source.label}; "
            f"billed to {payer}",
        )

    def _check_shadowing(
        self, lookups: dict[Provider, KeyLookup | TraceError]
    ) -> list[DoctorCheck]:
        found = []
        for provider, lookup in lookups.items():
            if isinstance(lookup, TraceError):
                continue  # the secret-store check above already reports it
            # Only a stored key is "shadowed" in the sense the fix below undoes
            # (GEMINI_API_KEY over GOOGLE_API_KEY is just the documented order).
            stored_shadowed = any(s.kind is not SourceKind.ENV for s in lookup.shadowed)
            if lookup.winner and stored_shadowed and lookup.winner.source.name:
                found.append(
                    DoctorCheck(
                        f"env override: {provider.value}",
                        Verdict.WARN,
                        f"{lookup.winner.source.label} overrides the key from "
                        f"{', '.join(s.label for s in lookup.shadowed)}",
                        f"unset {lookup.winner.source.name} to use the stored key",
                    )
                )
        return found

    def _check_login(self) -> DoctorCheck:
        if env_value(self._environment.snapshot((TRACE_TOKEN_ENV,)), TRACE_TOKEN_ENV):
            return DoctorCheck("trace login", Verdict.OK, f"token from env:{TRACE_TOKEN_ENV}")
        try:
            stored = self._secrets.get(TRACE_TOKEN_ACCOUNT)
        except TraceError as exc:
            return DoctorCheck("trace login", Verdict.FAIL, exc.problem, exc.fix, exc)
        if stored is None:
            error = NotLoggedInError()
            return DoctorCheck("trace login", Verdict.WARN, error.problem, error.fix)
        return DoctorCheck("trace login", Verdict.OK, f"token from {stored.source.label}")
