"""``SecretStore`` adapters: the OS keychain, the 0600 file, keychain-else-file, a read cache,
and the in-memory store.
"""
