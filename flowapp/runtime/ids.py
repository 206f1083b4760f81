"""Execution ids: time-ordered (they sort by creation) and unique without coordination."""

from __future__ import annotations

import secrets


def new_execution_id(now: float) -> str:
    """48 bits of milliseconds then 64 random bits, as 28 hex characters."""
    return f"{int(now * 1000):012x}{secrets.token_hex(8)}"
