"""Public names of a package imported from their modules when first used.

A package that pins its public names (``flowapp.events``, ``flowapp.triggers``) keeps
them in ``__all__`` and gets them on demand, so that importing one of its modules (a
parser, say) does not load every client library behind the others.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping
from typing import Any


def lazy_names(package: str, homes: Mapping[str, str]) -> Callable[[str], Any]:
    """The module ``__getattr__`` of ``package``: a name of ``homes`` (name -> module) is
    imported from its module on first use and kept in the package, any other is missing."""
    namespace = sys.modules[package].__dict__

    def __getattr__(name: str) -> Any:
        home = homes.get(name)
        if home is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(home), name)
        namespace[name] = value
        return value

    return __getattr__
