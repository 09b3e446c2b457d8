"""Private to the adapters: atomic, locked, permission-checked files and file-backed read caches.

Used by the file-backed stores (``adapters.secrets.file``, ``adapters.settings.toml``)
and the read caches; nothing outside ``adapters`` imports it.
"""
