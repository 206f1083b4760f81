"""Rules every store adapter applies the same way, written once.

The in-memory fake and the SQL adapter must agree on the small decisions the port leaves
open: which statuses count as unfinished, what a list cursor looks like, when a
subscription may want an event, and how JSON values are copied. Keeping them here means
the fake cannot drift from the database (the shared test bodies check the rest).
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping, Sequence
from typing import Any, TypeVar

import orjson

from flowapp.store import codec

# The spec's status phases. Claiming filters on the unfinished ones with ``IN`` (not
# ``NOT IN``) so that PostgreSQL and SQLite can use the (status, lease_until) index.
FINAL_STATUSES: tuple[str, ...] = ("completed", "faulted", "cancelled")
UNFINISHED_STATUSES: tuple[str, ...] = ("pending", "running", "waiting", "suspended")

T = TypeVar("T")


def encode_cursor(created_at: float, execution_id: str) -> str:
    """The position after the last row of a page: its (created_at, id), base64url."""
    raw = orjson.dumps([created_at, execution_id])
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def decode_cursor(cursor: str) -> tuple[float, str]:
    """Undo ``encode_cursor``; a cursor we did not make is the caller's mistake."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        created_at, execution_id = orjson.loads(base64.urlsafe_b64decode(padded))
    except (binascii.Error, orjson.JSONDecodeError, ValueError, TypeError) as exc:
        raise ValueError(f"invalid cursor: {cursor!r}") from exc
    if not isinstance(created_at, int | float) or not isinstance(execution_id, str):
        raise ValueError(f"invalid cursor: {cursor!r}")
    return float(created_at), execution_id


def ascii_lower(text: str) -> str:
    """``text`` with A-Z lowered and nothing else changed: what SQLite's ``lower`` does,
    so that "in any case" means the same on every adapter."""
    return text.translate(_ASCII_LOWER)


_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def input_holds(value: Any, text: str) -> bool:
    """The in-memory ``input_contains``: the codec's JSON text of ``value`` holds ``text``
    with A-Z in any case (the SQL adapter lowers both sides the same way)."""
    return ascii_lower(text) in ascii_lower(codec.dumps_text(value))


def subscription_event_type(alternatives: Sequence[Mapping[str, str]]) -> str | None:
    """The one exact ``type`` every alternative names, else None (then any type may do).

    Stored beside the subscription so that ``subscriptions_matching`` can narrow by an
    indexed column before the exact check in Python.
    """
    types = {alternative.get("type") for alternative in alternatives}
    if len(types) != 1:
        return None
    (only,) = types
    return only


def may_match(alternatives: Sequence[Mapping[str, str]], attributes: Mapping[str, Any]) -> bool:
    """True when some alternative's exact values all equal the event's (``[]``: any)."""
    if not alternatives:
        return True
    return any(
        all(attributes.get(key) == value for key, value in alternative.items())
        for alternative in alternatives
    )


def json_copy(value: T) -> T:
    """A deep copy through JSON, so the fake stores exactly what a database would
    (tuples become lists, unserialisable values fail) and never aliases caller data."""
    copied: T = codec.copy(value)
    return copied
