"""Driving adapters (CLI, SDK, desktop) and the composition root (the container)."""
