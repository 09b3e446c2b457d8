"""Reading our items from the Secret Service in one go: one connection, one session, one search.

keyring's Secret Service backend answers one account per call, and each call opens a
D-Bus connection, reads the collection's label and lock, searches, asks to unlock the
item, opens an encrypted session (three 1024-bit modular exponentiations between the
two ends) and fetches the secret: for ``byok status`` that was three connections and up
to three sessions, behind ``import keyring`` (which loads urllib, http.client and
email through its jaraco dependencies). This reader does what ``get_password`` does,
for several accounts at once, with SecretStorage and jeepney (keyring's own Linux
dependencies) and without keyring:

1. connect to the session bus (``DBUS_SESSION_BUS_ADDRESS``);
2. read the default collection's ``Locked`` property: a locked collection is an error
   (:class:`~adapters.secrets.keychain.reasons.KeychainFailure`), never an unlock
   request, so no prompt can ever appear; a missing collection is an error too (keyring
   would create one, which prompts);
3. ``SearchItems`` in that collection for our ``service`` attribute, then each found
   item's ``username`` attribute;
4. open one session, ``dh-ietf1024-sha256-aes128-cbc-pkcs7`` as keyring does (plain
   only where the service offers no encryption, as SecretStorage falls back), and fetch
   every wanted secret with one ``GetSecrets`` call.

The same item as keyring's ``get_password(service, account)``: keyring takes the first
result of a search for ``service`` + ``username`` in the same default collection. When
an account has one item, that is it; when it has several (another tool wrote a second
one), this reader asks that exact search and takes its first result too. An item
deleted by another process between the steps is looked for again, like the writes in
:mod:`adapters.secrets.keychain.backends` do. Writes and deletes stay on keyring.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from adapters.secrets.keychain.backends import VANISHED_RETRIES, pause
from adapters.secrets.keychain.reasons import KeychainFailure

if TYPE_CHECKING:
    from jeepney.io.blocking import DBusConnection
    from secretstorage.dhcrypto import Session

DEFAULT_COLLECTION = "/org/freedesktop/secrets/aliases/default"  # keyring's, SecretStorage's
_PREFIX = "org.freedesktop.Secret."
_SERVICE_PATH = "/org/freedesktop/secrets"
_NO_COLLECTION = "the keychain could not be opened (the Secret Service has no default collection{})"


class _Vanished(Exception):
    """An item found a moment ago is gone (another process deleted it): look again."""


class _NoCollection(Exception):
    """The default collection did not answer: absent, or (seen under load, with other
    clients writing) missing for a moment. Asked again before it is reported."""


class NoDefaultCollection(KeychainFailure):
    """The default collection still did not answer after the retries (the reason says
    which D-Bus error it gave); the caller may read through keyring instead."""


def read_secrets(service: str, accounts: Sequence[str]) -> dict[str, str | None]:
    """The secret text of each account (None when it has no item), as ``get_password`` reads it.

    Raises ``KeychainFailure`` (locked, no default collection), SecretStorage's and
    jeepney's exceptions and ``OSError`` (no bus, no Secret Service...) for
    :func:`~adapters.secrets.keychain.reasons.reason_for` to put in words, and
    ``UnicodeDecodeError`` for a secret that is not UTF-8 text.
    """
    from jeepney.io.blocking import open_dbus_connection
    from secretstorage.exceptions import ItemNotFoundException, SecretServiceNotAvailableException

    # What SecretStorage's dbus_init does, without its match rule for prompt signals.
    try:
        connection = open_dbus_connection(bus="SESSION")
    except KeyError as exc:  # the variable is unset: SecretStorage's words for it
        reason = f"Environment variable {exc.args[0]} is unset"
        raise SecretServiceNotAvailableException(reason) from None
    except (ConnectionError, ValueError) as exc:
        raise SecretServiceNotAvailableException(str(exc)) from None
    try:
        no_collection: _NoCollection | None = None
        for attempt in range(1, VANISHED_RETRIES + 1):
            try:
                return _read(connection, service, accounts)
            except _NoCollection as exc:
                no_collection = exc
            except (_Vanished, ItemNotFoundException):
                no_collection = None
            pause(attempt)
        if no_collection is not None:
            why = f": {no_collection.args[0]}" if no_collection.args else ""
            raise NoDefaultCollection(_NO_COLLECTION.format(why))
        return dict.fromkeys(accounts)  # items that keep vanishing are absent, as for keyring
    finally:
        connection.close()


def _read(
    connection: DBusConnection, service: str, accounts: Sequence[str]
) -> dict[str, str | None]:
    from secretstorage.exceptions import ItemNotFoundException
    from secretstorage.util import DBusAddressWrapper

    collection = DBusAddressWrapper(DEFAULT_COLLECTION, _PREFIX + "Collection", connection)
    try:
        locked = collection.get_property("Locked")
    except ItemNotFoundException as exc:
        cause = exc.__cause__
        raise _NoCollection(getattr(cause, "name", None) or str(exc)) from None
    if locked:
        raise KeychainFailure("the keychain is locked")
    (found,) = collection.call("SearchItems", "a{ss}", {"service": service})
    by_account: dict[str, list[str]] = {}
    for path in found:
        item = DBusAddressWrapper(path, _PREFIX + "Item", connection)
        username = dict(item.get_property("Attributes")).get("username")
        if isinstance(username, str):
            by_account.setdefault(username, []).append(path)
    chosen: dict[str, str] = {}
    for account in accounts:
        paths = by_account.get(account, [])
        if len(paths) > 1:  # several items: the one keyring's own search puts first
            query = {"username": account, "service": service}
            (paths,) = collection.call("SearchItems", "a{ss}", query)
        if paths:
            chosen[account] = paths[0]
    if not chosen:
        return dict.fromkeys(accounts)
    return _fetch(connection, chosen, accounts)


def _fetch(
    connection: DBusConnection, chosen: dict[str, str], accounts: Sequence[str]
) -> dict[str, str | None]:
    from secretstorage.util import DBusAddressWrapper, open_session

    session = open_session(connection)
    assert session.object_path is not None
    secrets_service = DBusAddressWrapper(_SERVICE_PATH, _PREFIX + "Service", connection)
    paths = sorted(set(chosen.values()))
    (answered,) = secrets_service.call("GetSecrets", "aoo", paths, session.object_path)
    texts: dict[str, str | None] = {}
    for account in accounts:
        path = chosen.get(account)
        if path is None:
            texts[account] = None
            continue
        secret = answered.get(path)
        if secret is None:
            # Not returned: deleted meanwhile, or an item locked on its own (never unlocked
            # here: that is what opens a prompt).
            item = DBusAddressWrapper(path, _PREFIX + "Item", connection)
            if item.get_property("Locked"):
                raise KeychainFailure("the keychain is locked")
            raise _Vanished(path)
        texts[account] = _plain(session, secret).decode("utf-8")
    return texts


def _plain(session: Session, secret: tuple[Any, ...]) -> bytes:
    """The secret's bytes: decrypted with the session's key (as SecretStorage's ``Item`` does)."""
    if not session.encrypted:
        return bytes(secret[2])
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    assert session.aes_key is not None
    decryptor = Cipher(algorithms.AES(session.aes_key), modes.CBC(bytes(secret[1]))).decryptor()
    padded = decryptor.update(bytes(secret[2])) + decryptor.finalize()
    return padded[: -padded[-1]]
