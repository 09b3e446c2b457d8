"""Artefacts shared by the Python and Node test suites, and their generators."""
