"""Which tools only read and which write (DESIGN sections 6 and 8): the data the mode rule uses.

The lists are closed on purpose: a tool name the client does not know is treated as a
writing tool, so a backend cannot get past ``ask`` or ``plan`` by inventing a name.
"""

from __future__ import annotations

READ_ONLY_TOOLS = frozenset(
    {"read_file", "list_dir", "grep", "get_erc_violations", "get_drc_violations"}
)
WRITING_TOOLS = frozenset({"write", "search_replace", "delete_trace_file"})
_SHOWN_NAME = 60


def is_read_only(tool_name: str) -> bool:
    """True only for a tool known to change nothing (an unknown name is not read-only)."""
    return tool_name in READ_ONLY_TOOLS


def shown_tool_name(tool_name: str) -> str:
    """The tool name as quoted in a message: short, whatever length the backend sent."""
    if len(tool_name) <= _SHOWN_NAME:
        return repr(tool_name)
    return repr(tool_name[:_SHOWN_NAME]) + "…"
