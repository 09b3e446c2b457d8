"""``SettingsStore`` adapters: ``config.toml``, a read cache, and the in-memory store."""
