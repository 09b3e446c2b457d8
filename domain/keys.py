"""Where a provider's key lives: named keys, helper commands, and what a helper prints.

Pure rules over text (no process is started here; ``adapters/helpers`` runs them):

- a **key reference** is a provider plus an optional name (``anthropic`` or
  ``anthropic:work``); its secret-store account is ``llm:anthropic`` or
  ``llm:anthropic:work``, its config table ``[keys.anthropic]`` or ``[keys.anthropic.work]``;
- a **helper command** is stored in config.toml (never a key); it is split like a POSIX
  shell would (``shlex``) and run without a shell unless it was stored with ``shell``;
- a helper prints the bare key (its first line counts) or a JSON object
  ``{"key": ..., "expires_at": RFC 3339}``; :func:`parse_helper_output` reads either.

The Node SDK follows the same rules; tests/shared/key-source-cases.json holds the cases.
"""

from __future__ import annotations

import datetime as _dt
import enum
import json
import re

import attrs

from domain.errors import InvalidInputError, KeyHelperError
from domain.provider import Provider
from domain.secret import Secret, looks_like_secret
from domain.value import Value

MAX_KEY_NAME = 32
# Leaves of a [keys.<provider>] table: a key may not be named like them.
RESERVED_KEY_NAMES = frozenset({"helper", "shell"})
# Patterns are compiled (and cached by re) where first used: most commands use none.
_KEY_NAME = r"[a-z0-9](?:[a-z0-9-]{0,30}[a-z0-9])?"
_PIECES = r"[^\s'\"=:]+"  # the parts of a command a key could hide in

MAX_HELPER_COMMAND = 4096
# The variables a helper is told (it keeps the user's whole environment besides).
HELPER_REASON_ENV = "TRACE_KEY_HELPER_REASON"
HELPER_PROVIDER_ENV = "TRACE_KEY_HELPER_PROVIDER"
HELPER_NAME_ENV = "TRACE_KEY_HELPER_NAME"

# What a helper may print: a key is at most 4 KiB; anything far larger is not one.
MAX_HELPER_OUTPUT = 64 * 1024
_RFC3339 = r"(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})"


def parse_key_name(raw: str) -> str:
    """A key name: 1-32 of ``a-z 0-9 -``, starting and ending with a letter or digit.

    Raises ``InvalidInputError`` (never echoing a value that looks like a key).
    """
    value = raw.strip()
    if re.fullmatch(_KEY_NAME, value) and value not in RESERVED_KEY_NAMES:
        return value
    shown = "(a value shaped like a key, not shown)" if looks_like_secret(value) else repr(value)
    if len(value) > 40:
        shown = f"({len(value)} characters, not shown)"
    reason = (
        f"{value!r} is reserved"
        if value in RESERVED_KEY_NAMES
        else f"use 1 to {MAX_KEY_NAME} lower-case letters, digits and inner dashes"
    )
    raise InvalidInputError(
        f"invalid key name {shown}: {reason}", "pass --name work (or client-a, personal...)"
    )


@attrs.frozen(eq=False, repr=False)
class KeyRef(Value):
    """One of the user's keys: a provider, and a name unless it is the provider's default key."""

    provider: Provider
    name: str | None = None

    @property
    def sort_key(self) -> tuple[str, str]:
        """Provider then name, the default key first: the order status lists keys in."""
        return self.provider.value, self.name or ""

    @property
    def account(self) -> str:
        """The secret-store account: ``llm:anthropic`` or ``llm:anthropic:work``."""
        base = self.provider.account
        return base if self.name is None else f"{base}:{self.name}"

    @property
    def label(self) -> str:
        """``anthropic`` or ``anthropic:work``, as status and errors show it."""
        return self.provider.value if self.name is None else f"{self.provider.value}:{self.name}"

    @property
    def set_command(self) -> str:
        """The command that stores this key."""
        named = f" --name {self.name}" if self.name is not None else ""
        return f"buildwithtrace byok set {self.provider.value}{named}"


class HelperReason(enum.Enum):
    """Why a helper runs, told to it in ``TRACE_KEY_HELPER_REASON`` (may it prompt?)."""

    CHAT = "chat"  # `buildwithtrace chat`: a person is at the terminal
    SDK = "sdk"  # a program: nobody may be there to answer a prompt
    STATUS = "status"  # `byok status --run-helpers`
    VERIFY = "verify"  # `byok set --verify`, `byok verify`, the panel's Verify button
    DOCTOR = "doctor"  # `doctor --verify`


@attrs.frozen(eq=False, repr=False)
class HelperCommand(Value):
    """A command that prints a key, as stored in config.toml (it is not a secret itself)."""

    command: str
    shell: bool = False

    @classmethod
    def parse(cls, raw: str, *, shell: bool = False) -> HelperCommand:
        """Check a command before it is stored; raises ``InvalidInputError``.

        Refused: empty, longer than 4 KiB, control characters (a newline would hide a
        second command from whoever reads config.toml), quotes that do not close, and
        any word shaped like a key (config.toml never holds secrets; the command should
        *fetch* the key).
        """
        command = raw.strip()
        fix = "pass the command that prints the key, e.g. --helper 'op read op://Vault/Item/credential'"
        if not command:
            raise InvalidInputError("the helper command is empty", fix)
        if len(command) > MAX_HELPER_COMMAND:
            raise InvalidInputError(
                f"the helper command is longer than {MAX_HELPER_COMMAND} characters", fix
            )
        if any(not ch.isprintable() for ch in command):
            raise InvalidInputError(
                "the helper command contains control characters (newlines, tabs...)", fix
            )
        words = _split(command)
        pieces = re.findall(_PIECES, command)
        if any(looks_like_secret(word) for word in (*words, *pieces, command)):
            raise InvalidInputError(
                "the helper command contains what looks like an API key; config.toml never "
                "holds keys, the command should fetch the key from your password manager",
                fix,
            )
        return cls(command, shell)

    def argv(self) -> tuple[str, ...]:
        """The words to run without a shell (POSIX ``shlex`` rules); the one-word shell form."""
        return (self.command,) if self.shell else _split(self.command)

    @property
    def program(self) -> str:
        """The program's name, for messages (``op``, ``pass``, ``sh``)."""
        if self.shell:
            return "sh"
        first = _split(self.command)[0]
        return first.rsplit("/", 1)[-1]


def _split(command: str) -> tuple[str, ...]:
    import shlex  # only where a helper command is read or stored

    try:
        words = tuple(shlex.split(command, posix=True))
    except ValueError:
        raise InvalidInputError(
            "the helper command has a quote that does not close",
            "check the quotes, e.g. --helper 'vault kv get -field=key secret/anthropic'",
        ) from None
    if not words:
        raise InvalidInputError(
            "the helper command is empty",
            "pass the command that prints the key, e.g. --helper 'pass show anthropic'",
        )
    return words


@attrs.frozen(eq=False, repr=False)
class HelperKey(Value):
    """What a helper printed: the key, and until when it is valid (epoch seconds), if said."""

    secret: Secret
    expires_at: float | None = None


def parse_helper_output(stdout: str, ref: KeyRef) -> HelperKey:
    """The key a helper printed; raises ``KeyHelperError`` (never quoting the output).

    - Surrounding whitespace is ignored (``pass`` and ``op`` end with a newline).
    - Output starting with ``{`` (or ``[``) is JSON and must be an object
      ``{"key": "...", "expires_at": "RFC 3339"}`` (``expires_at`` optional, with a time
      zone; other fields ignored).
    - Otherwise the first line is the key (``pass`` keeps other fields on later lines);
      it must be one word of printable characters.
    """
    text = stdout.strip()
    if not text:
        raise _output_error(ref, "printed nothing")
    if len(stdout) > MAX_HELPER_OUTPUT:
        raise _output_error(ref, f"printed more than {MAX_HELPER_OUTPUT // 1024} KiB")
    if text.startswith(("{", "[")):
        return _json_output(text, ref)
    first = text.splitlines()[0].strip()
    return HelperKey(_secret(first, ref))


def _json_output(text: str, ref: KeyRef) -> HelperKey:
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        raise _output_error(ref, "printed something that looks like JSON but is not") from None
    if not isinstance(data, dict):
        raise _output_error(ref, 'printed JSON that is not an object {"key": ...}')
    key = data.get("key")
    if not isinstance(key, str):
        raise _output_error(ref, 'printed JSON without a "key" string')
    expires = data.get("expires_at")
    if expires is None:
        return HelperKey(_secret(key.strip(), ref))
    if not isinstance(expires, str):
        raise _output_error(ref, 'printed an "expires_at" that is not an RFC 3339 string')
    return HelperKey(_secret(key.strip(), ref), parse_rfc3339(expires, ref))


def parse_rfc3339(text: str, ref: KeyRef) -> float:
    """``2026-05-01T12:00:00Z`` (a time zone is required) as epoch seconds."""
    found = re.fullmatch(_RFC3339, text.strip())
    if found is None:
        raise _output_error(
            ref, 'printed an "expires_at" that is not RFC 3339 (e.g. 2026-05-01T12:00:00Z)'
        )
    year, month, day, hour, minute, second = (int(found[i]) for i in range(1, 7))
    fraction = float(found[7]) if found[7] else 0.0
    zone = found[8]
    offset = 0 if zone in ("Z", "z") else (int(zone[1:3]) * 60 + int(zone[4:6]))
    if zone.startswith("-"):
        offset = -offset
    try:
        when = _dt.datetime(
            year,
            month,
            day,
            hour,
            minute,
            min(second, 59),  # a leap second reads as :59
            tzinfo=_dt.timezone(_dt.timedelta(minutes=offset)),
        )
    except ValueError:
        raise _output_error(ref, 'printed an "expires_at" that is not a real date') from None
    return when.timestamp() + fraction


def _secret(value: str, ref: KeyRef) -> Secret:
    if not value:
        raise _output_error(ref, "printed an empty key")
    if any(ch.isspace() for ch in value):
        raise _output_error(ref, "printed more than one word on its first line (not a bare key)")
    if any(not ch.isprintable() for ch in value):
        raise _output_error(ref, "printed control characters (not a bare key)")
    if len(value.encode("utf-8", "surrogatepass")) > 4096:
        raise _output_error(ref, "printed a key longer than 4096 bytes")
    return Secret(value)


def _output_error(ref: KeyRef, what: str) -> KeyHelperError:
    return KeyHelperError(
        ref.label,
        f"the key helper {what}",
        'make the helper print only the key, or {"key": "...", "expires_at": "..."} '
        "(try it in a terminal; then: buildwithtrace byok status --run-helpers)",
    )
