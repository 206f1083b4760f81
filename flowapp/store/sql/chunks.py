"""Splitting long id lists, so that ``IN (...)`` stays under the driver's limits.

SQLite accepts at most 32766 bound parameters per statement and every id of an ``IN``
list is one; PostgreSQL is happier with moderate lists too.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from itertools import islice
from typing import TypeVar

T = TypeVar("T")
CHUNK = 1000


def chunked(items: Iterable[T], size: int = CHUNK) -> Iterator[list[T]]:
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk
