"""JSON values to text and back, exactly, for every store adapter.

orjson is fast and exact for almost everything a workflow carries, with two gaps that
would otherwise lose or refuse values a workflow may legitimately hold:

- integers outside 64 bits: ``dumps`` refuses them and ``loads`` silently turns them
  into floats;
- nesting deeper than 254 levels: ``dumps`` refuses it.

``dumps`` falls back to the standard library for those values, and ``loads`` reads text
that may hold a long run of digits with the standard library (a run of 19 digits or
more may be an integer orjson cannot hold; in a string it merely costs the slower
parser). Everything else takes orjson's path.

``loads`` also accepts a number as it is: SQLite stores text that looks like a number
as one in a column of numeric affinity, which the JSON columns had before migration
0004, so a bare ``42`` written then reads back as the integer 42.
"""

from __future__ import annotations

import json
from typing import Any

import orjson

from flowapp.store.port import StoreError

# Messages orjson gives for the two values the standard library can still encode.
_FALLBACK_ERRORS = ("Integer exceeds", "Recursion limit")
# A run of 19 digits is found by mapping every digit to "0" and looking for 19 zeros:
# both are single passes in C, about ten times faster than a regular expression on this
# text full of digits (timestamps, ids), which every state read pays.
_DIGITS_TO_ZERO = bytes.maketrans(b"0123456789", b"0" * 10)
_LONG_DIGITS = b"0" * 19


def dumps(value: Any) -> bytes:
    """UTF-8 JSON text of ``value``; ``StoreError`` if it is not JSON."""
    try:
        return orjson.dumps(value)
    except orjson.JSONEncodeError as exc:
        if not any(reason in str(exc) for reason in _FALLBACK_ERRORS):
            raise StoreError(f"value is not JSON: {exc}") from exc
    try:
        text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
        return text.encode("utf-8")
    except RecursionError:
        raise StoreError("value is not storable: it is nested too deeply") from None
    except (TypeError, ValueError, UnicodeEncodeError) as exc:
        raise StoreError(f"value is not JSON: {exc}") from exc


def dumps_text(value: Any) -> str:
    return dumps(value).decode("utf-8")


def loads(data: str | bytes | bytearray | memoryview | int | float) -> Any:
    """The value of JSON text (or a number SQLite already converted)."""
    if isinstance(data, int | float):
        return data
    if isinstance(data, memoryview | bytearray):
        data = bytes(data)
    raw = data if isinstance(data, bytes) else data.encode("utf-8", "surrogatepass")
    if _LONG_DIGITS in raw.translate(_DIGITS_TO_ZERO):
        return json.loads(data)
    return orjson.loads(data)


def copy(value: Any) -> Any:
    """A deep copy through JSON text: what a database would hand back."""
    return value if value is None else loads(dumps(value))
