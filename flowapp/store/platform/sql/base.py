"""The plumbing under ``SqlPlatformStore``: the engine, one transaction per call, and
the conversion of driver errors at the edge (``translated``).

Write transactions are marked so that SQLite takes its write lock up front (``BEGIN
IMMEDIATE``); PostgreSQL runs at READ COMMITTED and the query modules lock the rows
they must (``common.need_app``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import wraps
from typing import ParamSpec, TypeVar

from sqlalchemy.engine import Connection, Engine

from flowapp.store.sql.engine import WRITE, create_store_engine
from flowapp.store.sql.errors import translate_errors
from flowapp.store.sql.migrate import upgrade

P = ParamSpec("P")
R = TypeVar("R")


def translated(method: Callable[P, R]) -> Callable[P, R]:
    """Every public method reports failures as the port's errors, never the driver's."""

    @wraps(method)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        with translate_errors(method.__name__):
            return method(*args, **kwargs)

    return wrapper


class SqlBase:
    def __init__(self, url: str | Engine) -> None:
        self._owns_engine = not isinstance(url, Engine)
        self._engine = url if isinstance(url, Engine) else create_store_engine(url)

    @property
    def engine(self) -> Engine:
        """The SQLAlchemy engine (for tests and operational tools)."""
        return self._engine

    @contextmanager
    def _write(self) -> Iterator[Connection]:
        with self._engine.connect() as conn:
            conn.execution_options(**{WRITE: True})
            with conn.begin():
                yield conn

    @contextmanager
    def _read(self) -> Iterator[Connection]:
        with self._engine.connect() as conn, conn.begin():
            yield conn

    @translated
    def migrate(self) -> None:
        """``alembic upgrade head`` of the history shared with the execution store."""
        upgrade(self._engine)

    def close(self) -> None:
        """Dispose of the engine, unless it was handed in (its owner disposes of it)."""
        if self._owns_engine:
            self._engine.dispose()
