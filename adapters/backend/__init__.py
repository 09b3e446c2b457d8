"""``TraceBackend`` adapters: the Trace backend over HTTP, and a scripted fake."""
