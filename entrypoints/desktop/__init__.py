"""The desktop settings panel (Settings → AI Provider): Qt widgets over the BYOK use-cases.

Needs the ``desktop`` extra (PySide6). Only :mod:`entrypoints.desktop.command` may be
imported without it: it says how to install the extra instead of failing.
"""
