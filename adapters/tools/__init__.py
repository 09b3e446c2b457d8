"""``ToolRunner`` adapters: the local tools in a sandboxed project, and a scripted fake."""
