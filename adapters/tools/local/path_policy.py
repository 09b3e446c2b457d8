"""The one path policy of the local tools (DESIGN section 8), applied by every tool.

Every tool applies it to the path the model gave it AND to every file it reaches
on its own (a ``grep`` walk, a ``list_dir`` listing, the EDA tools' choice of the
project's schematic, the target of every symlink). A path passes when:

1. once resolved (``..`` and every symlink followed, by :class:`Sandbox`), it is the
   project root or lies under it; and
2. no component is hidden: neither a name of the path as given (below the root)
   nor a name of the resolved path below the root. ``notes.txt -> .env``,
   ``gitdir -> .git`` and ``.git/../board.kicad_sch`` all fail.

Names are compared by :func:`name_key`: NFC-normalised, casefolded, with trailing
dots and spaces removed (Windows ignores them, so ``"package.json. "`` opens
``package.json`` there). A name is hidden when its key starts with ``.``. The
same key serves the write rules of :mod:`adapters.tools.local.write_policy`.

What happens to a path that fails, the same way in every tool:

- a path the model named explicitly is refused with an error result
  (``refusing to read 'notes.txt': hidden files and directories are off limits...``);
  a path outside the root with the sandbox's ``path ... is outside the project
  directory``;
- a file reached during a walk (``grep`` over a directory, the EDA default file) is
  skipped silently, as if absent;
- in a listing (``list_dir``) a hidden entry is left out and counted in a note
  (``[2 hidden entries not shown]``), and a symlink whose target is hidden, outside
  or missing is shown as ``name@`` (visible, but no tool will follow it).

Why: ``.env``, ``.git/config``, ``.npmrc``, ``.aws/`` and the like hold credentials,
and a cloned project's author chooses its symlinks.

Residual risks, accepted: a hard link inside the root to a hidden file is read (its
name is visible; git does not store hard links, but an archive can); a name hidden
only by a file-system attribute (Windows' hidden flag) counts as visible; Windows
8.3 short names are not expanded (the resolved path, which ``realpath`` turns into
long names there, is checked).
"""

from __future__ import annotations

import os
import unicodedata
from collections.abc import Callable, Iterator
from pathlib import Path, PurePath

from adapters.tools.local.arguments import ToolError, show
from adapters.tools.local.sandbox import Sandbox

HIDDEN_REFUSAL = (
    "hidden files and directories are off limits, also through links (they often "
    "hold credentials, e.g. .env or .git/config)"
)


def name_key(name: str) -> str:
    """``name`` as file systems compare it: NFC, casefolded, trailing dots and spaces removed."""
    folded = unicodedata.normalize("NFC", name).casefold()
    if folded in (".", ".."):
        return folded
    return folded.rstrip(". ")


def is_hidden_name(name: str) -> bool:
    """True for a hidden name (``.env``, ``.git``); ``.`` and ``..`` are not names."""
    if name in ("", ".", ".."):
        return False
    return unicodedata.normalize("NFC", name).startswith(".")


def _hidden_below_root(sandbox: Sandbox, path: Path) -> bool:
    """True when the resolved ``path`` has a hidden name below the root."""
    if not sandbox.contains(path):
        return False
    return any(is_hidden_name(part) for part in path.relative_to(sandbox.root).parts)


def _given_parts(sandbox: Sandbox, raw: str) -> tuple[str, ...]:
    """The names of ``raw`` below the root, as the model wrote them."""
    given = PurePath(raw)
    if not given.is_absolute():
        return given.parts
    try:
        return given.relative_to(sandbox.root).parts
    except ValueError:
        # An absolute path through another spelling of the root (a link to it):
        # only the resolved path can be checked.
        return ()


def resolve(sandbox: Sandbox, raw: str, verb: str) -> Path:
    """The resolved path ``raw`` names, if the policy allows it; else ``ToolError``."""
    path = sandbox.resolve(raw)
    if any(is_hidden_name(p) for p in _given_parts(sandbox, raw)) or _hidden_below_root(
        sandbox, path
    ):
        raise ToolError(f"refusing to {verb} {show(raw)}: {HIDDEN_REFUSAL}")
    return path


def reach(sandbox: Sandbox, found: Path) -> Path | None:
    """For walks and listings: the resolved path of the entry ``found``, or None to skip it."""
    if is_hidden_name(found.name):
        return None
    resolved = Path(os.path.realpath(found))
    if not sandbox.contains(resolved) or _hidden_below_root(sandbox, resolved):
        return None
    return resolved


def walk_files(
    sandbox: Sandbox, start: Path, check: Callable[[], None]
) -> Iterator[tuple[Path, Path]]:
    """(found path, resolved path) of every file the policy allows under ``start``.

    ``start`` is a resolved directory the policy allowed. Files of a directory come
    in name order, then its subdirectories one by one, in name order. Symlinked
    files are yielded when their target passes; symlinked directories are never
    entered (no loops, no second copy). ``check`` runs before each directory and
    each file (it raises to stop the walk: cancellation, a deadline).
    """
    pending = [start]
    while pending:
        directory = pending.pop()
        check()
        # A directory swapped for a link since it was listed: do not enter what it leads to.
        if not sandbox.contains(Path(os.path.realpath(directory))):
            continue
        try:
            with os.scandir(directory) as listing:
                entries = sorted(listing, key=lambda entry: entry.name)
        except OSError:
            continue
        subdirectories = []
        for entry in entries:
            if is_hidden_name(entry.name):
                continue
            found = directory / entry.name
            try:
                if entry.is_dir(follow_symlinks=False):
                    subdirectories.append(found)
                    continue
                linked = entry.is_symlink()
            except OSError:
                continue
            resolved = reach(sandbox, found)
            if resolved is None or (linked and not resolved.is_file()):
                continue
            check()
            yield found, resolved
        pending.extend(reversed(subdirectories))
