"""Reliability and security suite: stress, crashes, faults, hostile input, secret leaks.

Every test measures and records figures (see :mod:`tests.reliability.plugin`);
``python -m tests.reliability.report`` runs the suite and writes docs/reliability.md.
"""
