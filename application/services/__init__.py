"""Services several use-cases share: key resolution and the Trace token."""
