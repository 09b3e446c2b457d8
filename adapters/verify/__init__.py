"""``KeyVerifier`` adapters: the providers' own models endpoints over HTTPS."""
