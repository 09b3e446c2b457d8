"""The OS keychain (Secret Service, macOS Keychain, Windows Credential Manager) as a SecretStore."""

from adapters.secrets.keychain.store import KeyringSecretStore

__all__ = ["KeyringSecretStore"]
