"""The ``bridge`` extra: what a command needs that ``pip install knobflow`` alone lacks."""

from __future__ import annotations

import importlib
import sys

__all__ = ["INSTALL", "missing"]

INSTALL = "pip install 'knobflow[bridge]'"


def missing(command: str, *modules: str) -> bool:
    """Whether one of ``modules`` cannot be imported; if so, say which (one line on stderr)
    and how to install them. The caller then exits with status 2."""
    absent = []
    for name in modules:
        try:
            importlib.import_module(name)
        except ImportError:
            absent.append(name)
    if not absent:
        return False
    names = ", ".join(absent)
    print(
        f"knobflow {command}: needs {names} (not installed); install it with: {INSTALL}",
        file=sys.stderr,
    )
    return True
