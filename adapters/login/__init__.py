"""``LoginFlow`` adapters: the browser (device code) login."""
