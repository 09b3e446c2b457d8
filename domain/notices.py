"""What the user is told once, before a request: no surprise bills (pure).

A chat (CLI or SDK) derives these from its :class:`~domain.resolution.Resolution`
before anything is sent: an environment variable's key displacing the user's stored
key or a project file's choice (who pays changes), and a project file that was found
but ignored. ``keys.env_override = error`` turns the first into an error instead.
The CLI prints them on stderr (a ``{"type": "notice"}`` line with ``--json``); the SDK
hands them to ``Trace(on_notice=...)`` or warns (``TraceNotice``), once per client.
"""

from __future__ import annotations

import enum

import attrs

from domain.credential import KeySource, SourceKind
from domain.errors import EnvOverrideError
from domain.project import ProjectUse
from domain.resolution import Resolution
from domain.settings import EnvOverride
from domain.value import Value


class NoticeCode(enum.Enum):
    """The kinds of notice (a stable vocabulary; the words may change)."""

    ENV_OVERRIDE = "env_override"  # an env var's key is used instead of the user's own choice
    PROJECT_IGNORED = "project_ignored"  # a trace.toml was found but is not allowed (yet)
    KEY_REFRESHED = "key_refreshed"  # the provider rejected a helper's key: helper re-run


@attrs.frozen(eq=False, repr=False)
class Notice(Value):
    """One thing the user should know before (or about) a request."""

    code: NoticeCode
    message: str


def override_notice(resolution: Resolution) -> Notice | None:
    """The env-override notice for ``resolution``, if an env var displaced the user's choice."""
    overridden = resolution.overrides
    credential = resolution.credential
    if overridden is None or credential is None:
        return None
    variable = credential.source.name or credential.source.label
    return Notice(
        NoticeCode.ENV_OVERRIDE,
        f"{variable} is set: its key is used for {resolution.provider.value} instead of "
        f"{_described(overridden, resolution.project)}; unset {variable} to use yours",
    )


def project_notice(project: ProjectUse | None) -> Notice | None:
    """The notice for a project file that was found but does not apply."""
    if project is None or project.applies:
        return None
    return Notice(
        NoticeCode.PROJECT_IGNORED,
        f"ignored {project.path} ({project.ignored_reason()}): "
        f"run buildwithtrace project allow {project.directory}",
    )


def refreshed_notice(provider: str, source: KeySource) -> Notice:
    """The notice after the provider rejected a helper's key and the helper ran again."""
    return Notice(
        NoticeCode.KEY_REFRESHED,
        f"{provider} rejected the key from {source.label}; ran the helper again and "
        "retried the request once",
    )


def resolution_notices(resolution: Resolution) -> tuple[Notice, ...]:
    """Every notice to give before a request with ``resolution``, in a stable order."""
    found = (project_notice(resolution.project), override_notice(resolution))
    return tuple(notice for notice in found if notice is not None)


def check_env_override(resolution: Resolution, policy: EnvOverride) -> None:
    """Raise ``EnvOverrideError`` when an env var displaced the user's choice and the
    policy (``keys.env_override``) is ``error``."""
    if policy is not EnvOverride.ERROR or resolution.overrides is None:
        return
    credential = resolution.credential
    if credential is None or credential.source.kind is not SourceKind.ENV:
        return
    variable = credential.source.name or credential.source.label
    raise EnvOverrideError(variable, _described(resolution.overrides, resolution.project))


def _described(source: KeySource, project: ProjectUse | None) -> str:
    """``your stored key (keychain:work, chosen by /p/trace.toml)``."""
    kind = "key from your helper" if source.kind is SourceKind.HELPER else "stored key"
    chosen = ""
    chosen_here = project is not None and project.applies
    if chosen_here and project is not None and source.key_name is not None:
        chosen = (
            f", chosen by {project.path}" if project.selection.key_name == source.key_name else ""
        )
    return f"your {kind} ({source.label}{chosen})"
