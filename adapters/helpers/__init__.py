"""``KeyHelper`` adapters: helper commands run as child processes, and a scripted fake."""
