"""AllowProject / ForgetProject: the user's yes (or no) to a project file, by path and content."""

from __future__ import annotations

import attrs

from application.ports import ProjectFiles, SettingsStore
from domain.errors import InvalidInputError
from domain.project import PROJECT_FILE_NAME, ProjectSelection, ProjectState
from domain.value import Value


@attrs.frozen(eq=False, repr=False)
class ProjectResult(Value):
    """A project file, what it selects, and whether it applies (after the change, if any)."""

    path: str
    digest: str
    state: ProjectState
    selection: ProjectSelection
    changed: bool = False  # allow/forget changed what config.toml records


class AllowProject:
    """Record that the project file found from a directory may apply, with this content.

    Only a valid file can be allowed (a key or a command in it raises
    ``ProjectFileError``); a later change to it needs allowing again.
    """

    def __init__(self, *, settings: SettingsStore, project_files: ProjectFiles) -> None:
        self._settings = settings
        self._project_files = project_files

    def execute(self, directory: str) -> ProjectResult:
        """Allow the nearest project file at or above ``directory``."""
        found = self._project_files.find(directory)
        if found is None:
            raise _none_found(directory)
        before = self._settings.load().allowed_projects.get(found.path)
        self._settings.update(lambda s: s.with_allowed(found.path, found.digest))
        return ProjectResult(
            found.path,
            found.digest,
            ProjectState.ALLOWED,
            found.selection,
            changed=before != found.digest,
        )


class ForgetProject:
    """Withdraw the allowance of the project file found from a directory."""

    def __init__(self, *, settings: SettingsStore, project_files: ProjectFiles) -> None:
        self._settings = settings
        self._project_files = project_files

    def execute(self, directory: str) -> ProjectResult:
        """Forget the nearest project file at or above ``directory`` (idempotent)."""
        found = self._project_files.find(directory)
        if found is None:
            raise _none_found(directory)
        before = self._settings.load().allowed_projects.get(found.path)
        self._settings.update(lambda s: s.with_allowed(found.path, None))
        return ProjectResult(
            found.path,
            found.digest,
            ProjectState.NOT_ALLOWED,
            found.selection,
            changed=before is not None,
        )


class ShowProject:
    """The project file found from a directory and whether it applies; changes nothing."""

    def __init__(self, *, settings: SettingsStore, project_files: ProjectFiles) -> None:
        self._settings = settings
        self._project_files = project_files

    def execute(self, directory: str) -> ProjectResult | None:
        """None when there is no project file; raises ``ProjectFileError`` for a refused one."""
        found = self._project_files.find(directory)
        if found is None:
            return None
        state = found.state(self._settings.load().allowed_projects)
        return ProjectResult(found.path, found.digest, state, found.selection)


def _none_found(directory: str) -> InvalidInputError:
    return InvalidInputError(
        f"no {PROJECT_FILE_NAME} in {directory} or the directories above it (up to one "
        "another user owns)",
        f'create {PROJECT_FILE_NAME} with [llm] provider = "..." in your project, then: '
        "buildwithtrace project allow DIRECTORY",
    )
