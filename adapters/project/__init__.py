"""``ProjectFiles`` adapters: ``trace.toml`` found on disk, and an in-memory fake."""
