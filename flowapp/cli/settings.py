"""Where the CLI keeps its data when no option says otherwise."""

from __future__ import annotations

import os
from pathlib import Path


def flowapp_home() -> Path:
    return Path(os.environ.get("FLOWAPP_HOME") or Path.home() / ".flowapp")


def default_db() -> str:
    """``$FLOWAPP_DB``, else a SQLite file in ``$FLOWAPP_HOME`` (``~/.flowapp``)."""
    return os.environ.get("FLOWAPP_DB") or f"sqlite:///{flowapp_home() / 'flowapp.db'}"
