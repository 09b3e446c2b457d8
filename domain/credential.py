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


@attrs.frozen(eq=False, repr=False)
class KeySource(Value):
    """Where a key came from: a kind, plus the variable name for environment keys."""

    kind: SourceKind
    name: str | None = None

    @property
    def label(self) -> str:
        """Stable text form: ``env:NAME``, ``keychain``, ``file``, ``memory`` or ``argument``."""
        return f"env:{self.name}" if self.kind is SourceKind.ENV else self.kind.value

    def __str__(self) -> str:
        """The label, so that printing a source reads ``env:OPENAI_API_KEY`` or ``keychain``."""
        return self.label

    @classmethod
    def env(cls, name: str) -> KeySource:
        """The environment variable ``name``."""
        return cls(SourceKind.ENV, name)


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
