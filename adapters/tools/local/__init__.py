"""Local tool execution (DESIGN section 6): the model's tool calls, run inside a project root.

Public API: :class:`LocalToolRunner` (a ``ToolRunner``). The tools, their argument
names and their output formats are documented in the modules that implement them:

- ``read_file``, ``list_dir``: :mod:`adapters.tools.local.file_tools`
- ``write``, ``search_replace``, ``delete_trace_file``: :mod:`adapters.tools.local.edit_tools`
- ``grep``: :mod:`adapters.tools.local.grep_tool`
- ``get_erc_violations``, ``get_drc_violations``: :mod:`adapters.tools.local.eda_tools`

Every result is text whose content is capped at ``max_result_chars``; notes such as
``[output truncated: N more characters]`` may add up to 1 KiB beyond it. Failures
(unknown tool, bad arguments, a path outside the root, a refused extension, an I/O
error) come back as ``ToolResult(is_error=True)`` with a message for the model.

The backend and the project's files are both untrusted. Where that is handled:

- which paths a tool may use, given or reached (inside the root, nothing hidden):
  :mod:`adapters.tools.local.path_policy`; confinement and the no-follow opens:
  :mod:`adapters.tools.local.sandbox`;
- which files may be written (design files, never tool manifests):
  :mod:`adapters.tools.local.write_policy`; atomic writes and per-file locking:
  :mod:`adapters.tools.local.atomic`;
- a hostile ``grep`` pattern (RE2, streamed, a deadline):
  :mod:`adapters.tools.local.grep_tool`;
- what ``kicad-cli`` inherits (an allow-list, no secrets):
  :mod:`adapters.tools.local.child_env`;
- ``cancel()``: every running call stops soon (``<tool> was cancelled``), later ones
  fail at once.
"""

from adapters.tools.local.runner import LocalToolRunner

__all__ = ["LocalToolRunner"]
