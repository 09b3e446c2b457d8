"""Secrets in a 0600 JSON file inside a 0700 directory: the store where no keychain works.

File format (``version`` lets a later release change the shape without guessing)::

    {"version": 1, "secrets": {"llm:anthropic": "sk-ant-..."}}

Top-level keys this version does not know are kept when the file is rewritten.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from adapters._fs.atomic_file import (
    PRIVATE_FILE_MODE,
    atomic_write,
    locked,
    read_bytes_checked,
    writable_directory_problem,
)
from application.ports import SecretStore, StoreCheck, StoreInfo, StoreKind
from domain.credential import KeySource, SourceKind, StoredSecret
from domain.errors import CorruptFileError, InvalidKeyError, StorageError
from domain.secret import Secret

FORMAT_VERSION = 1
_SOURCE = KeySource(SourceKind.FILE)


class FileSecretStore(SecretStore):
    """Secrets by account in one private JSON file; read-modify-write under a process lock."""

    def __init__(self, path: Path) -> None:
        self._path = path

    def get(self, account: str) -> StoredSecret | None:
        """The secret for ``account``; None when absent or when the file does not exist."""
        raw = self._load()
        value = None if raw is None else raw["secrets"].get(account)
        if value is None:
            return None
        return StoredSecret(Secret.parse(value), _SOURCE)

    def get_many(self, accounts: Sequence[str]) -> dict[str, StoredSecret | None]:
        """Each account's secret, from one read of the file."""
        raw = self._load()
        stored: dict[str, str] = {} if raw is None else raw["secrets"]
        return {
            account: None if value is None else StoredSecret(Secret.parse(value), _SOURCE)
            for account in accounts
            for value in (stored.get(account),)
        }

    def set(self, account: str, secret: Secret) -> StoredSecret:
        """Store ``secret`` under ``account``; a corrupt file is refused, never replaced."""

        def put(secrets: dict[str, str]) -> bool:
            secrets[account] = secret.reveal()
            return True

        self._modify(put)
        return StoredSecret(secret, _SOURCE)

    def delete(self, account: str) -> bool:
        """Remove ``account``; True if it existed. The file is rewritten only when it changes."""
        raw = self._load()
        if raw is None or account not in raw["secrets"]:
            return False  # nothing to remove: no lock file, no second read, no directory
        return self._modify(lambda secrets: secrets.pop(account, None) is not None)

    def info(self) -> StoreInfo:
        """A file store at this path."""
        return StoreInfo(StoreKind.FILE, str(self._path))

    def check(self) -> tuple[StoreCheck, ...]:
        """Whether the file can be read and parsed (a missing file is healthy)."""
        try:
            raw = self._load()
        except StorageError as exc:
            return (StoreCheck("file", False, exc.problem, exc),)
        unwritable = writable_directory_problem(self._path.parent)
        if unwritable is not None:  # reads work, but the next write would fail
            return (StoreCheck("file", False, unwritable.problem, unwritable),)
        if raw is None:
            return (StoreCheck("file", True, f"{self._path} (not created yet)"),)
        count = len(raw["secrets"])
        return (StoreCheck("file", True, f"{self._path} ({count} secret(s), mode 0600)"),)

    def _modify(self, change: Callable[[dict[str, str]], bool]) -> bool:
        # The lock spans read and write, so concurrent processes never lose an update.
        with locked(self._path, private=True):
            raw = self._load() or {"version": FORMAT_VERSION, "secrets": {}}
            changed = change(raw["secrets"])
            if changed:
                data = json.dumps(raw, indent=2, sort_keys=True) + "\n"
                atomic_write(self._path, data.encode("utf-8"), PRIVATE_FILE_MODE, private=True)
            return changed

    def _load(self) -> dict[str, Any] | None:
        data = read_bytes_checked(self._path, private=True)
        return None if data is None else self._parse(data)

    def _parse(self, data: bytes) -> dict[str, Any]:
        if not data.strip():
            raise self._corrupt("the file is empty")
        try:
            raw = json.loads(data.decode("utf-8"))
        except UnicodeDecodeError:
            raise self._corrupt("it is not UTF-8 text") from None
        except json.JSONDecodeError as exc:
            # Position only: the message of a decode error can quote the file (a secret).
            raise self._corrupt(f"invalid JSON at line {exc.lineno} column {exc.colno}") from None
        except RecursionError:
            raise self._corrupt("it is nested too deeply to be ours") from None
        if not isinstance(raw, dict):
            raise self._corrupt("the top level is not a JSON object")
        version = raw.get("version")
        if type(version) is not int or version != FORMAT_VERSION:
            if type(version) is int and version > FORMAT_VERSION:
                raise self._corrupt(
                    f"format version {version} is newer than this buildwithtrace understands "
                    "(upgrade buildwithtrace)"
                )
            raise self._corrupt(f'"version" must be {FORMAT_VERSION}')
        secrets = raw.get("secrets")
        if not isinstance(secrets, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in secrets.items()
        ):
            raise self._corrupt('"secrets" must be an object of account name to string')
        for account, value in secrets.items():
            try:
                Secret.parse(value)
            except InvalidKeyError:
                raise self._corrupt(f"the secret stored for {account!r} is invalid") from None
        return raw

    def _corrupt(self, detail: str) -> CorruptFileError:
        return CorruptFileError(str(self._path), detail)
