"""``UnchosenSecretStore``: the store that stands in when the real one cannot be chosen.

The store is chosen by ``credentials.store`` (config.toml) unless
``TRACE_CREDENTIALS_STORE`` decides; a corrupt config.toml leaves the choice unknown.
``doctor`` then still runs every other check: this store reports the reason in its
check and raises it on any other use, so nothing is read from or written to a store
the user may not have chosen.
"""

from __future__ import annotations

from collections.abc import Callable

from application.ports import SecretStore, StoreCheck, StoreInfo, StoreKind
from domain.credential import StoredSecret
from domain.errors import StorageError, TraceError
from domain.secret import Secret


class UnchosenSecretStore(SecretStore):
    """A secret store that could not be chosen; every call but ``check`` raises why."""

    def __init__(self, reason: TraceError) -> None:
        self._reason = reason

    def get(self, account: str) -> StoredSecret | None:
        """Raises the reason the store could not be chosen."""
        raise self._reason

    def set(self, account: str, secret: Secret) -> StoredSecret:
        """Raises the reason the store could not be chosen."""
        raise self._reason

    def delete(self, account: str) -> bool:
        """Raises the reason the store could not be chosen."""
        raise self._reason

    def info(self) -> StoreInfo:
        """The unknown store, for status output."""
        return StoreInfo(StoreKind.FILE, f"unknown ({self._reason.problem})")

    def check(self) -> tuple[StoreCheck, ...]:
        """One failed check that says why no store could be chosen, with the fix."""
        error = StorageError(
            f"cannot tell which secret store holds your keys: {self._reason.problem}",
            f"{self._reason.fix}; to check the file store meanwhile: "
            "TRACE_CREDENTIALS_STORE=file buildwithtrace doctor",
        )
        return (StoreCheck("unknown", False, error.problem, error),)


def chosen_or_unchosen(build: Callable[[], SecretStore]) -> SecretStore:
    """The store ``build`` chooses, or an ``UnchosenSecretStore`` saying why it could not."""
    try:
        return build()
    except TraceError as error:
        return UnchosenSecretStore(error)
