"""The device authorization grant (RFC 8628) as values: what the backend hands out, and polls.

``auth login`` never puts anything that identifies the login in a URL: the browser
opens the generic ``verification_uri`` and the user types ``user_code``, which only
their terminal shows. ``device_code`` is the secret the CLI polls with; it never
leaves the process except to the backend.
"""

from __future__ import annotations

import enum

import attrs

from domain.secret import Secret
from domain.value import Value


@attrs.frozen(eq=False, repr=False)
class DeviceAuthorization(Value):
    """A pending device login: the secret to poll with, and what the user is shown."""

    device_code: Secret
    user_code: str
    verification_uri: str
    expires_in: float  # seconds the codes stay valid
    interval: float  # seconds to wait between polls


class DeviceLoginState(enum.Enum):
    """Where a device login stands, as one poll reports it."""

    APPROVED = "approved"
    PENDING = "authorization_pending"
    SLOW_DOWN = "slow_down"
    DENIED = "access_denied"
    EXPIRED = "expired_token"


def _token_only_when_approved(poll: DevicePoll, _: object, token: Secret | None) -> None:
    if (token is not None) != (poll.state is DeviceLoginState.APPROVED):
        raise ValueError("a device poll carries a token exactly when it is approved")


@attrs.frozen(eq=False, repr=False)
class DevicePoll(Value):
    """One poll's answer: the token once the user approved, else the state."""

    state: DeviceLoginState
    token: Secret | None = attrs.field(default=None, validator=_token_only_when_approved)
