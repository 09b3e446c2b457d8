"""A secret value (API key or token) that never shows itself."""

from __future__ import annotations

import functools
import re
import unicodedata

import attrs

from domain.errors import InvalidKeyError, InvalidTokenError
from domain.value import Value

MAX_SECRET_BYTES = 4096
_MASK_MIN_LENGTH = 12  # below this, even four characters reveal too much of the key
_KEY_PREFIXES = ("sk-", "sk_", "AIza", "ghp_", "gho_", "xox", "trace_", "eyJ")
_TOKEN_MIN = 32
_TOKENISH = r"[A-Za-z0-9_\-+/=]{32,}"


@functools.cache
def _tokenish() -> re.Pattern[str]:
    return re.compile(_TOKENISH)  # on first need: most arguments are short words


def looks_like_secret(value: str) -> bool:
    """True for values shaped like an API key or token (they belong in the secret store)."""
    text = value.strip()
    if text.startswith(_KEY_PREFIXES) and len(text) >= 16:
        return True
    if len(text) >= _TOKEN_MIN and _tokenish().fullmatch(text):
        has_upper = any(c.isupper() for c in text)
        has_lower = any(c.islower() for c in text)
        has_digit = any(c.isdigit() for c in text)
        return has_upper and has_lower and has_digit
    return False


# Python hands bytes that are not UTF-8 over as these "surrogate escapes" (stdin in a C
# locale, or our own decoding of it): U+DC80..U+DCFF stand for the bytes 0x80..0xFF.
_ESCAPED_BYTES = range(0xDC80, 0xDD00)


def refusal(value: str) -> str | None:
    """Why ``value`` (already trimmed) cannot be a key or token, in words; None if it can.

    The words never quote the value: at most one byte or code point that no key holds.
    """
    if not value:
        return "it is empty"
    escaped = [ord(ch) - 0xDC00 for ch in value if ord(ch) in _ESCAPED_BYTES]
    if escaped:
        if value[:2] in ("\udcff\udcfe", "\udcfe\udcff"):
            first = " ".join(f"{ord(ch) - 0xDC00:02X}" for ch in value[:2])
            return (
                f"it is UTF-16 text (it starts with the bytes {first}), not UTF-8; save it as UTF-8"
            )
        return f"it is not UTF-8 text (byte {escaped[0]:02X})"
    if "\x00" in value:
        return "it contains NUL characters (U+0000), as UTF-16 text does; save it as UTF-8"
    if len(value.encode("utf-8", "surrogatepass")) > MAX_SECRET_BYTES:
        return f"it is longer than {MAX_SECRET_BYTES} bytes"
    if any(ch.isspace() for ch in value):
        return "it contains whitespace"
    hidden = next((ch for ch in value if not ch.isprintable()), None)
    if hidden is not None:
        kind = "control" if unicodedata.category(hidden) == "Cc" else "invisible"
        return f"it contains the {kind} character U+{ord(hidden):04X}"
    return None


@attrs.frozen(eq=False, repr=False)
class Secret(Value):
    """An API key or token. ``repr``/``str`` never show it; ``reveal()`` does, once, at the edge."""

    _value: str = attrs.field(alias="value")

    @classmethod
    def parse(cls, raw: str, provider: str | None = None) -> Secret:
        """Trim and validate a provider key; raises :class:`InvalidKeyError` (never echoing it)."""
        value = raw.strip()
        reason = refusal(value)
        if reason is not None:
            raise InvalidKeyError(reason, provider)
        return cls(value)

    @classmethod
    def parse_token(cls, raw: str) -> Secret:
        """Trim and validate a Trace token; raises :class:`InvalidTokenError` (never echoing it)."""
        value = raw.strip()
        reason = refusal(value)
        if reason is not None:
            raise InvalidTokenError(reason)
        return cls(value)

    def reveal(self) -> str:
        """The plain text; call only where the secret is sent or stored."""
        return self._value

    def masked(self) -> str:
        """At most the last four characters, prefixed with an ellipsis."""
        if len(self._value) < _MASK_MIN_LENGTH:
            return "…"
        return "…" + self._value[-4:]

    def __repr__(self) -> str:
        return f"Secret({self.masked()!r})"

    def __str__(self) -> str:
        return self.masked()

    def __hash__(self) -> int:
        return hash(self._value)
