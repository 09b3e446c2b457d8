"""The one table from our error tree to the exit codes of DESIGN section 7."""

from __future__ import annotations

from domain.errors import (
    AuthenticationRejectedError,
    BackendError,
    InvalidInputError,
    MissingConfigurationError,
    StorageError,
    TraceError,
)

SUCCESS = 0
UNEXPECTED = 1
USAGE = 2
MISSING_CONFIGURATION = 3
BACKEND = 4
STORAGE = 5
INTERRUPTED = 130

# Most specific first: a 401 is a backend answer, but its fix is to log in again.
EXIT_CODES: tuple[tuple[type[TraceError], int], ...] = (
    (AuthenticationRejectedError, MISSING_CONFIGURATION),
    (InvalidInputError, USAGE),
    (MissingConfigurationError, MISSING_CONFIGURATION),
    (BackendError, BACKEND),
    (StorageError, STORAGE),
    (TraceError, UNEXPECTED),
)


def exit_code_for(error: BaseException) -> int:
    """The exit code for ``error`` (1 for anything outside our tree)."""
    for kind, code in EXIT_CODES:
        if isinstance(error, kind):
            return code
    return UNEXPECTED
