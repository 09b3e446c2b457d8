"""ShowStatus: every provider's key (masked), its source, what it shadows, model, billing;
the named keys, and the project file that applies here."""

from __future__ import annotations

import attrs

from application.ports import SecretStore, SettingsStore, StoreInfo
from application.services.key_resolution import KeyContext, KeyResolution
from domain.billing import BillingMode
from domain.credential import KeySource, SourceKind
from domain.errors import KeyHelperError, ProjectFileError
from domain.keys import HelperReason, KeyRef
from domain.model_id import ModelSource
from domain.project import ProjectState
from domain.provider import Provider
from domain.resolution import KeyLookup
from domain.value import Value


@attrs.frozen(eq=False, repr=False)
class KeyStatus(Value):
    """Whether a provider has a key, where it comes from, and its masked form.

    A helper's key is only known once it ran (``byok status --run-helpers``): until then
    ``masked`` is None and ``helper`` shows the command. ``error``: why a helper that ran
    gave no key.
    """

    present: bool
    source: KeySource | None = None
    masked: str | None = None
    helper: str | None = None
    error: str | None = None


@attrs.frozen(eq=False, repr=False)
class ProviderStatus(Value):
    """One row of the status table.

    ``key_name``: the named key this provider uses (None: its default key), and
    ``chosen_by`` who chose it (a project file's path, ``byok use ... --name``).
    """

    provider: Provider
    active: bool
    key: KeyStatus
    shadowed: tuple[KeySource, ...]
    model: str | None
    model_source: ModelSource
    billing: BillingMode
    key_name: str | None = None
    chosen_by: str | None = None


@attrs.frozen(eq=False, repr=False)
class NamedKeyStatus(Value):
    """One of the user's named keys (``byok set PROVIDER --name NAME``), env vars aside."""

    provider: Provider
    name: str
    key: KeyStatus


@attrs.frozen(eq=False, repr=False)
class ProjectStatus(Value):
    """The project file that applies to the directory status looked at."""

    path: str
    state: ProjectState | None  # None: the file is refused (see ``problem``)
    provider: Provider | None = None
    key_name: str | None = None
    model: str | None = None
    problem: str | None = None


@attrs.frozen(eq=False, repr=False)
class StatusReport(Value):
    """The whole status (its JSON shape is a documented interface)."""

    active_provider: Provider
    billing: BillingMode
    secret_store: StoreInfo
    config_path: str
    providers: tuple[ProviderStatus, ...]
    named_keys: tuple[NamedKeyStatus, ...] = ()
    project: ProjectStatus | None = None
    effective_provider: Provider | None = None  # a chat here: the project's, else the active

    @property
    def active(self) -> ProviderStatus:
        """The row of the active provider (``byok use``)."""
        return next(p for p in self.providers if p.active)


class ShowStatus:
    """Report the BYOK state without changing anything (helpers run only when asked)."""

    def __init__(
        self, *, secrets: SecretStore, settings: SettingsStore, key_resolution: KeyResolution
    ) -> None:
        self._secrets = secrets
        self._settings = settings
        self._key_resolution = key_resolution

    def execute(self, *, project_dir: str | None = None, run_helpers: bool = False) -> StatusReport:
        """Read settings, environment, secret store and the project file into a report.

        ``project_dir``: where to look for a project file (the CLI: the working directory).
        ``run_helpers``: run key helpers (reason ``status``) to show their keys, masked.
        """
        settings = self._settings.load()
        project: ProjectStatus | None = None
        try:
            context = self._key_resolution.context(project_dir)
        except ProjectFileError as exc:
            context = KeyContext(settings)
            project = ProjectStatus(exc.path, None, problem=exc.problem)
        if context.project is not None:
            chosen = context.project.selection
            project = ProjectStatus(
                context.project.path,
                context.project.state,
                chosen.provider,
                chosen.key_name,
                chosen.model,
            )
        active = settings.provider
        effective = active
        if context.project is not None and context.project.applies:
            effective = context.project.selection.provider or active
        rows = []
        lookups, named_lookups = self._key_resolution.for_status(context, settings.named_keys)
        for provider, lookup in zip(Provider, lookups, strict=True):
            key = self._key_status(lookup, settings.helper_for(_ref(lookup)), run_helpers)
            model, model_source = self._model(provider, context)
            rows.append(
                ProviderStatus(
                    provider=provider,
                    active=provider is active,
                    key=key,
                    shadowed=lookup.shadowed,
                    model=model,
                    model_source=model_source,
                    billing=provider.spec.billing,
                    key_name=lookup.key_name,
                    chosen_by=lookup.chosen_by,
                )
            )
        named = tuple(
            NamedKeyStatus(
                ref.provider,
                ref.name or "",
                self._key_status(lookup, settings.helper_for(ref), run_helpers),
            )
            for ref, lookup in zip(settings.named_keys, named_lookups, strict=True)
        )
        return StatusReport(
            active_provider=active,
            billing=active.spec.billing,
            secret_store=self._secrets.info(),
            config_path=self._settings.location(),
            providers=tuple(rows),
            named_keys=named,
            project=project,
            effective_provider=effective,
        )

    def _key_status(self, lookup: KeyLookup, helper: object, run_helpers: bool) -> KeyStatus:
        command = getattr(helper, "command", None)
        if run_helpers and lookup.pending is not None:
            try:
                lookup = self._key_resolution.fetch(lookup, HelperReason.STATUS)
            except KeyHelperError as exc:
                return KeyStatus(True, lookup.source, None, command, exc.problem)
        if lookup.winner is not None:
            return KeyStatus(True, lookup.source, lookup.winner.secret.masked(), command)
        if lookup.pending is not None:
            return KeyStatus(True, lookup.source, None, command)
        return KeyStatus(False, helper=command)

    @staticmethod
    def _model(provider: Provider, context: KeyContext) -> tuple[str | None, ModelSource]:
        project = context.project
        chosen = project.selection if project is not None and project.applies else None
        if chosen is not None and chosen.provider is provider and chosen.model is not None:
            return chosen.model, ModelSource.PROJECT
        remembered = context.settings.model_for(provider)
        if remembered:
            return remembered, ModelSource.CONFIG
        return provider.spec.default_model, ModelSource.DEFAULT


def _ref(lookup: KeyLookup) -> KeyRef:
    return KeyRef(lookup.provider, lookup.key_name)


def overriding_env(row: ProviderStatus) -> bool:
    """True when an environment variable wins over a stored key (or helper) for this row."""
    return (
        row.key.source is not None
        and row.key.source.kind is SourceKind.ENV
        and any(s.is_stored for s in row.shadowed)
    )
