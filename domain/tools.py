"""Which tools only read and which write (DESIGN sections 6 and 8): the data the mode rule uses.

The lists are closed on purpose: a tool name the client does not know is treated as a
writing tool, so a backend cannot get past ``ask`` or ``plan`` by inventing a name.
"""

from __future__ import annotations

from collections.abc import Mapping

READ_ONLY_TOOLS = frozenset(
    {"read_file", "list_dir", "grep", "get_erc_violations", "get_drc_violations"}
)
WRITING_TOOLS = frozenset({"write", "search_replace", "delete_trace_file"})
# The arguments that name what a call works on, in the order a summary looks for them.
TARGET_ARGUMENTS = ("file_path", "target_file", "path", "filename", "file_name", "pattern")
_SHOWN_NAME = 60
_SHOWN_TARGET = 200


def is_read_only(tool_name: str) -> bool:
    """True only for a tool known to change nothing (an unknown name is not read-only)."""
    return tool_name in READ_ONLY_TOOLS


def shown_tool_name(tool_name: str) -> str:
    """The tool name as quoted in a message: short, whatever length the backend sent."""
    if len(tool_name) <= _SHOWN_NAME:
        return repr(tool_name)
    return repr(tool_name[:_SHOWN_NAME]) + "…"


def call_target(tool_args: Mapping[str, object]) -> str | None:
    """What a call works on (its path or pattern), shortened for a summary; None if none."""
    for name in TARGET_ARGUMENTS:
        value = tool_args.get(name)
        if isinstance(value, str) and value:
            return value if len(value) <= _SHOWN_TARGET else value[: _SHOWN_TARGET - 1] + "…"
    return None
