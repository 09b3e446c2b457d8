"""The tools that change files: ``write``, ``search_replace`` and ``delete_trace_file``.

Which names may be written (design files only; never files that tools execute or
trust, compared case-insensitively): :mod:`adapters.tools.local.write_policy`.
Which paths (inside the root, no hidden component in the given path or its
target): :mod:`adapters.tools.local.path_policy`. Both apply to the name the model
gave and to the resolved target, so a link named ``x.json`` cannot lead to a script.

``delete_trace_file`` deletes only Trace's own scratch files (``.trace_sch``,
``.trace_pcb``): the model may clean up what Trace made, never the user's design.

Every change goes through ``atomic_write`` under the file's lock; file text is
decoded as UTF-8 with ``surrogateescape`` so bytes that are not UTF-8 survive an
edit unchanged.
"""

from __future__ import annotations

from pathlib import Path, PurePath
from typing import TypeVar

from adapters.tools.local import path_policy, write_policy
from adapters.tools.local.arguments import Arguments, ToolError, show
from adapters.tools.local.atomic import atomic_write, delete_file
from adapters.tools.local.context import ToolContext
from adapters.tools.local.file_tools import load


def writable_target(ctx: ToolContext, raw: str) -> Path:
    """The resolved path ``raw`` names, if the model may change that file."""
    path = path_policy.resolve(ctx.sandbox, raw, "change")
    given = PurePath(raw)
    names = [given.name, path.name]
    below_anchor = given.parts[1:] if given.anchor else given.parts
    if any(":" in part for part in below_anchor) or not all(
        write_policy.writable_name(name) for name in names
    ):
        refusal = (
            "it is a file that package managers, build tools or editors execute or trust"
            if any(write_policy.refused(name) for name in names)
            else f"only design files can be written ({write_policy.allowed_description()})"
        )
        raise ToolError(f"refusing to change {show(raw)}: {refusal}")
    return path


def _encode(text: str, argument: str, errors: str = "strict") -> bytes:
    """``text`` as UTF-8 file bytes (``surrogateescape``: undecodable bytes round-trip)."""
    try:
        return text.encode("utf-8", errors)
    except UnicodeEncodeError:
        raise ToolError(f"argument {argument!r} is not valid Unicode text") from None


def write(ctx: ToolContext, args: Arguments) -> str:
    """``write``: create or replace a design file with ``contents``."""
    raw = args.text("file_path", "target_file")
    data = _encode(args.text("contents", "content", allow_empty=True), "contents")
    if len(data) > ctx.max_read_bytes:
        raise ToolError(
            f"contents are {len(data)} bytes; at most {ctx.max_read_bytes} can be written"
        )
    path = writable_target(ctx, raw)
    with ctx.locks.hold(path):
        created = atomic_write(ctx.sandbox, path, data)
    verb = "created" if created else "replaced"
    return f"{verb} {ctx.sandbox.display(path)} ({len(data)} bytes)"


def search_replace(ctx: ToolContext, args: Arguments) -> str:
    """``search_replace``: replace one exact occurrence (or all, with ``replace_all``)."""
    raw = args.text("file_path", "target_file")
    old = args.text("old_string")
    new = args.text("new_string", allow_empty=True)
    replace_all = args.flag("replace_all")
    if old == new:
        raise ToolError("old_string and new_string are identical; nothing would change")
    path = writable_target(ctx, raw)
    shown = ctx.sandbox.display(path)
    with ctx.locks.hold(path):
        data = load(ctx, path)
        plain = _plain_utf8(old, new)
        if plain is not None:
            # On the bytes: UTF-8 is self-synchronising, so a valid needle matches exactly
            # where its text would match in the decoded file, and a 5 MB schematic is
            # neither decoded nor re-encoded (three passes over it saved).
            changed, found = _replace(data, *plain, replace_all, shown)
        else:
            # Text that carries undecodable bytes (lone surrogates): match it as text.
            text = data.decode("utf-8", "surrogateescape")
            edited, found = _replace(text, old, new, replace_all, shown)
            changed = _encode(edited, "new_string", "surrogateescape")
        atomic_write(ctx.sandbox, path, changed)
    count = found if replace_all else 1
    return f"replaced {count} occurrence{'s' if count > 1 else ''} in {shown}"


def _plain_utf8(old: str, new: str) -> tuple[bytes, bytes] | None:
    """Both strings as UTF-8, or None when either holds a surrogate (not plain text)."""
    try:
        return old.encode("utf-8"), new.encode("utf-8")
    except UnicodeEncodeError:
        return None


_Text = TypeVar("_Text", str, bytes)


def _replace(
    content: _Text, old: _Text, new: _Text, replace_all: bool, shown: str
) -> tuple[_Text, int]:
    """``content`` with ``old`` replaced once (or all), and how often it occurred.

    Raises ``ToolError`` when ``old`` is absent, or occurs more than once without
    ``replace_all``.
    """
    found = content.count(old)
    crlf, lf = ("\r\n", "\n") if isinstance(content, str) else (b"\r\n", b"\n")
    if not found and crlf in content and lf in old and crlf not in old:
        # The model writes "\n"; a file saved on Windows has "\r\n".
        old, new = old.replace(lf, crlf), new.replace(lf, crlf)
        found = content.count(old)
    if not found:
        raise ToolError(
            f"old_string was not found in {shown!r}; read the file again and copy the "
            "text exactly, including whitespace"
        )
    if found > 1 and not replace_all:
        raise ToolError(
            f"old_string occurs {found} times in {shown!r}; include more surrounding text "
            "to make it unique, or set replace_all to true"
        )
    return content.replace(old, new, -1 if replace_all else 1), found


def delete_trace_file(ctx: ToolContext, args: Arguments) -> str:
    """``delete_trace_file``: delete one of Trace's scratch files."""
    raw = args.text("filename", "file_name")
    path = path_policy.resolve(ctx.sandbox, raw, "delete")
    for name in (PurePath(raw).name, path.name):
        if not write_policy.deletable_name(name):
            raise ToolError(
                f"refusing to delete {show(raw)}: only Trace scratch files "
                f"({', '.join(sorted(write_policy.DELETABLE_SUFFIXES))}) can be deleted"
            )
    with ctx.locks.hold(path):
        delete_file(ctx.sandbox, path)
    return f"deleted {ctx.sandbox.display(path)}"
