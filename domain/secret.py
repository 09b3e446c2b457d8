"""A secret value (API key or token) that never shows itself."""

from __future__ import annotations

import functools
import re

import attrs

from domain.errors import InvalidKeyError
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


@attrs.frozen(eq=False, repr=False)
class Secret(Value):
    """An API key or token. ``repr``/``str`` never show it; ``reveal()`` does, once, at the edge."""

    _value: str = attrs.field(alias="value")

    @classmethod
    def parse(cls, raw: str, provider: str | None = None) -> Secret:
        """Trim and validate user input; raises :class:`InvalidKeyError` (never echoing it)."""
        value = raw.strip()
        if not value:
            raise InvalidKeyError("the key is empty", provider)
        if len(value.encode("utf-8", "surrogatepass")) > MAX_SECRET_BYTES:
            raise InvalidKeyError(f"the key is longer than {MAX_SECRET_BYTES} bytes", provider)
        if any(ch.isspace() for ch in value):
            raise InvalidKeyError("the key contains whitespace", provider)
        if any(not ch.isprintable() for ch in value):
            raise InvalidKeyError("the key contains control characters", provider)
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
