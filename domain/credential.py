"""Credentials and where they come from."""

from __future__ import annotations

import enum

import attrs

from domain.provider import Provider
from domain.secret import Secret
from domain.value import Value


class SourceKind(enum.Enum):
    """The kind of place a key was read from."""

    ENV = "env"
    KEYCHAIN = "keychain"
    FILE = "file"
    MEMORY = "memory"
    ARGUMENT = "argument"
    HELPER = "helper"  # a command from config.toml printed it (run when a request needs it)


@attrs.frozen(eq=False, repr=False)
class KeySource(Value):
    """Where a key came from: a kind, the variable name for environment keys, and the
    key's name for named keys (``byok set PROVIDER --name NAME``)."""

    kind: SourceKind
    name: str | None = None
    key_name: str | None = None

    @property
    def label(self) -> str:
        """Stable text form: ``env:NAME``, ``keychain``, ``file``, ``memory``, ``argument``,
        ``helper``; a named key's source adds its name: ``keychain:work``, ``helper:work``."""
        if self.kind is SourceKind.ENV:
            return f"env:{self.name}"
        if self.key_name is not None:
            return f"{self.kind.value}:{self.key_name}"
        return str(self.kind.value)

    @property
    def place(self) -> str:
        """Where a key is kept, inside a sentence (the glossary's words): ``the OS keychain``,
        ``the credentials file``, ``env:NAME``..."""
        return _PLACES.get(self.kind, self.label)

    @property
    def unset_hint(self) -> str:
        """The step that stops an environment variable from winning, else empty."""
        return f"unset {self.name}" if self.kind is SourceKind.ENV and self.name else ""

    def __str__(self) -> str:
        """The label, so that printing a source reads ``env:OPENAI_API_KEY`` or ``keychain``."""
        return self.label

    @classmethod
    def env(cls, name: str) -> KeySource:
        """The environment variable ``name``."""
        return cls(SourceKind.ENV, name)

    @property
    def is_stored(self) -> bool:
        """True for the user's own stored key or helper (what an environment variable shadows)."""
        return self.kind not in (SourceKind.ENV, SourceKind.ARGUMENT)


_PLACES = {
    SourceKind.KEYCHAIN: "the OS keychain",
    SourceKind.FILE: "the credentials file",
    SourceKind.MEMORY: "the in-memory store",
}


@attrs.frozen(eq=False, repr=False)
class Credential(Value):
    """A provider's key together with its source."""

    provider: Provider
    secret: Secret
    source: KeySource


@attrs.frozen(eq=False, repr=False)
class StoredSecret(Value):
    """A secret as read from a secret store, with the backing store that held it."""

    secret: Secret
    source: KeySource
