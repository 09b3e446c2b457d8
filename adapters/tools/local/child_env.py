"""The environment of the processes the tools start (``kicad-cli``): an allow-list.

A child inherits nothing by default. From the environment the runner was given
(its constructor's ``environment``; the CLI and SDK pass the one they read), only
these names pass, compared in upper case (Windows names ignore case):

- ``PATH HOME USER LOGNAME LANG TZ TMPDIR TMP TEMP`` and every ``LC_*`` (locale);
- every ``XDG_*`` (where KiCad finds its configuration and caches) and every
  ``KICAD*`` (``KICAD9_SYMBOL_DIR``...: the library locations the user configured);
- on Windows ``SYSTEMROOT WINDIR COMSPEC PATHEXT APPDATA LOCALAPPDATA USERPROFILE
  SYSTEMDRIVE PROGRAMDATA PROGRAMFILES`` (processes there fail without them).

A name containing ``TOKEN``, ``KEY``, ``SECRET``, ``PASSWORD``, ``PASSWD``,
``CREDENTIAL`` or ``AUTH`` never passes, whatever its prefix (``KICAD_API_TOKEN``).
So the provider keys (``ANTHROPIC_API_KEY``...), the Trace token
(``TRACE_API_TOKEN``), cloud credentials and anything the user exported for other
tools stay in this process.

Residual risk: a secret stored under an allowed name that does not look like one
(``KICAD_CONFIG_HOME=https://user:pass@host``) would pass; nothing sensible puts
one there. Loader variables (``LD_PRELOAD``, ``LD_LIBRARY_PATH``, ``DYLD_*``) are
not passed: a KiCad that needs them should be started through a wrapper script
named by ``TRACE_KICAD_CLI``.
"""

from __future__ import annotations

from collections.abc import Mapping

ALLOWED_NAMES = frozenset(
    {"PATH", "HOME", "USER", "LOGNAME", "LANG", "TZ", "TMPDIR", "TMP", "TEMP"}
    | {"SYSTEMROOT", "WINDIR", "COMSPEC", "PATHEXT", "APPDATA", "LOCALAPPDATA", "USERPROFILE"}
    | {"SYSTEMDRIVE", "PROGRAMDATA", "PROGRAMFILES"}
)
ALLOWED_PREFIXES = ("LC_", "XDG_", "KICAD")
SECRET_WORDS = ("TOKEN", "KEY", "SECRET", "PASSWORD", "PASSWD", "CREDENTIAL", "AUTH")


def allowed(name: str) -> bool:
    """True when the variable ``name`` may be passed to a child process."""
    upper = name.upper()
    if any(word in upper for word in SECRET_WORDS):
        return False
    return upper in ALLOWED_NAMES or upper.startswith(ALLOWED_PREFIXES)


def child_environment(environment: Mapping[str, str]) -> dict[str, str]:
    """The allow-listed part of ``environment``, for ``subprocess.Popen(env=...)``."""
    return {name: value for name, value in environment.items() if allowed(name)}
