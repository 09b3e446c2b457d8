"""The pure model of Trace BYOK: providers, secrets, credentials and resolution rules.

Nothing in this package performs I/O; an import-linter contract keeps it so.
"""
