"""Doctor: local health checks, each with a verdict and the fix."""

from __future__ import annotations

import enum

import attrs

from application.ports import Environment, KeyVerifier, SecretStore, SettingsStore
from application.services.key_resolution import KeyContext, KeyResolution
from domain.errors import (
    REPORT_STEP,
    EnvOverrideError,
    NotLoggedInError,
    StorageError,
    TraceError,
)
from domain.keys import HelperReason
from domain.provider import TRACE_TOKEN_ACCOUNT, TRACE_TOKEN_ENV, Provider
from domain.resolution import KeyLookup, env_value
from domain.settings import EnvOverride, Settings
from domain.value import Value
from domain.verification import Verdict as KeyVerdict


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
        verifier: KeyVerifier | None = None,
    ) -> None:
        self._secrets = secrets
        self._settings = settings
        self._environment = environment
        self._key_resolution = key_resolution
        self._verifier = verifier

    def execute(self, *, verify: bool = False, project_dir: str | None = None) -> DoctorReport:
        """Run every check; never raises for a failed check (it is reported instead).

        ``verify``: also ask each provider whose key is set whether it works (helpers
        run, with reason ``doctor``). ``project_dir``: where a project file may apply.
        """
        checks: list[DoctorCheck] = []
        settings = self._check_config(checks)
        checks.extend(self._check_stores())
        if isinstance(settings, TraceError):
            # config.toml cannot be read: the environment and the default stored keys can
            # still be checked (no key names or project file: those live in config.toml).
            lookups = self._lookups(KeyContext(Settings()))
            checks.append(
                DoctorCheck(
                    "active provider",
                    Verdict.WARN,
                    "cannot tell which provider is active: config.toml cannot be read "
                    "(see the config check)",
                    settings.fix,
                )
            )
            checks.extend(self._check_shadowing(lookups, Settings().env_override_policy))
        else:
            context = self._check_project(checks, settings, project_dir)
            lookups = self._lookups(context)
            checks.append(self._check_active(settings, lookups))
            checks.extend(self._check_shadowing(lookups, settings.env_override_policy))
            if verify:
                checks.extend(self._check_keys(lookups))
        store_failed = any(
            c.name.startswith("secret store:") and c.verdict is Verdict.FAIL for c in checks
        )
        checks.append(self._check_login(store_failed))
        return DoctorReport(tuple(checks))

    def _check_project(
        self, checks: list[DoctorCheck], settings: Settings, project_dir: str | None
    ) -> KeyContext:
        try:
            context = self._key_resolution.context(project_dir)
        except TraceError as exc:
            checks.append(DoctorCheck("project file", Verdict.FAIL, exc.problem, exc.fix, exc))
            return KeyContext(settings)
        project = context.project
        if project is not None and project.applies:
            checks.append(DoctorCheck("project file", Verdict.OK, f"{project.path} is allowed"))
        elif project is not None:
            checks.append(
                DoctorCheck(
                    "project file",
                    Verdict.WARN,
                    f"{project.path} is ignored ({project.ignored_reason()})",
                    f"buildwithtrace project allow {project.directory}",
                )
            )
        return context

    def _check_keys(self, lookups: dict[Provider, KeyLookup | TraceError]) -> list[DoctorCheck]:
        """``doctor --verify``: each provider with a key asks its models endpoint."""
        found: list[DoctorCheck] = []
        for provider, lookup in lookups.items():
            if isinstance(lookup, TraceError) or not lookup.found:
                continue
            name = f"verify: {provider.value}"
            try:
                lookup = self._key_resolution.fetch(lookup, HelperReason.DOCTOR)
                if self._verifier is None or lookup.winner is None:
                    continue
                result = self._verifier.verify(provider, lookup.winner.secret)
            except TraceError as exc:
                found.append(DoctorCheck(name, Verdict.FAIL, exc.problem, exc.fix, exc))
                continue
            where = f"key {lookup.winner.secret.masked()} from {lookup.winner.source.label}"
            failure = result.failure
            if result.verdict is KeyVerdict.VALID:
                found.append(DoctorCheck(name, Verdict.OK, f"{where}: {result.detail}"))
            elif result.verdict is KeyVerdict.REJECTED and failure is not None:
                found.append(
                    DoctorCheck(
                        name, Verdict.FAIL, f"{where}: {failure.problem}", failure.fix, failure
                    )
                )
            elif failure is not None:
                found.append(
                    DoctorCheck(name, Verdict.WARN, f"{where}: {result.detail}", failure.fix)
                )
        return found

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
                        "to keep keys in the keychain, unlock it (or start a Secret Service: "
                        "docs/security.md), then check again: buildwithtrace doctor",
                    )
                )
            else:
                error = check.error or StorageError(
                    check.detail,
                    f"check again: buildwithtrace doctor; {REPORT_STEP}",
                )
                found.append(DoctorCheck(name, Verdict.FAIL, error.problem, error.fix, error))
        return found

    def _check_config(self, checks: list[DoctorCheck]) -> Settings | TraceError:
        where = self._settings.location()
        try:
            settings = self._settings.load()
        except TraceError as exc:
            checks.append(DoctorCheck("config", Verdict.FAIL, exc.problem, exc.fix, exc))
            return exc
        checks.append(DoctorCheck("config", Verdict.OK, f"{where} is readable"))
        return settings

    def _lookups(self, context: KeyContext) -> dict[Provider, KeyLookup | TraceError]:
        """Each BYOK provider's key, resolved once for the checks that need it (no helper runs)."""
        found: dict[Provider, KeyLookup | TraceError] = {}
        for provider in Provider.byok():
            try:
                found[provider] = self._key_resolution.for_provider(provider, context)
            except TraceError as exc:
                found[provider] = exc
        return found

    def _check_active(
        self, settings: Settings, lookups: dict[Provider, KeyLookup | TraceError]
    ) -> DoctorCheck:
        provider = settings.provider
        payer = provider.payer
        if not provider.is_byok:
            return DoctorCheck("active provider", Verdict.OK, f"trace: billed to {payer}")
        lookup = lookups[provider]
        if isinstance(lookup, TraceError):
            return DoctorCheck("active provider", Verdict.FAIL, lookup.problem, lookup.fix, lookup)
        winner = lookup.winner
        if lookup.pending is not None:
            return DoctorCheck(
                "active provider",
                Verdict.OK,
                f"{provider.value}: key from {lookup.pending.source.label} "
                f"({lookup.pending.helper.program}; not run, doctor --verify runs it); "
                f"billed to {payer}",
            )
        if winner is None:
            error = lookup.missing()
            return DoctorCheck("active provider", Verdict.FAIL, error.problem, error.fix, error)
        return DoctorCheck(
            "active provider",
            Verdict.OK,
            f"{provider.value}: key {winner.secret.masked()} from {winner.source.label}; "
            f"billed to {payer}",
        )

    def _check_shadowing(
        self, lookups: dict[Provider, KeyLookup | TraceError], policy: EnvOverride
    ) -> list[DoctorCheck]:
        found = []
        for provider, lookup in lookups.items():
            if isinstance(lookup, TraceError):
                continue  # the secret-store check above already reports it
            # Only a stored key (or helper) is "shadowed" in the sense the fix below undoes
            # (GEMINI_API_KEY over GOOGLE_API_KEY is just the documented order).
            stored = [s for s in lookup.shadowed if s.is_stored]
            variable = lookup.winner.source.name if lookup.winner else None
            if not stored or variable is None:
                continue
            shadowed = ", ".join(s.label for s in stored)
            name = f"env override: {provider.value}"
            if policy is EnvOverride.ERROR:
                error = EnvOverrideError(variable, f"your key from {shadowed}")
                found.append(DoctorCheck(name, Verdict.FAIL, error.problem, error.fix, error))
                continue
            found.append(
                DoctorCheck(
                    name,
                    Verdict.WARN,
                    f"{lookup.winner.source.label if lookup.winner else variable} overrides "
                    f"the key from {shadowed}",
                    f"to use the stored key: unset {variable}",
                )
            )
        return found

    def _check_login(self, store_failed: bool) -> DoctorCheck:
        if env_value(self._environment.snapshot((TRACE_TOKEN_ENV,)), TRACE_TOKEN_ENV):
            return DoctorCheck("trace login", Verdict.OK, f"token from env:{TRACE_TOKEN_ENV}")
        try:
            stored = self._secrets.get(TRACE_TOKEN_ACCOUNT)
        except TraceError as exc:
            if store_failed:  # already a failure above, with its fix: not twice
                return DoctorCheck(
                    "trace login",
                    Verdict.WARN,
                    "cannot tell whether you are logged in: the secret store cannot be read "
                    "(see the secret store check)",
                    exc.fix,
                )
            return DoctorCheck("trace login", Verdict.FAIL, exc.problem, exc.fix, exc)
        if stored is None:
            error = NotLoggedInError()
            return DoctorCheck("trace login", Verdict.WARN, error.problem, error.fix)
        return DoctorCheck("trace login", Verdict.OK, f"token from {stored.source.label}")
