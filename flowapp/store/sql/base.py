"""The plumbing under both SQL stores: the engine, one transaction per call, and the
conversion of driver errors at the edge (``translated``).

Write transactions are marked so that SQLite takes its write lock up front (``BEGIN
IMMEDIATE``); PostgreSQL runs at READ COMMITTED and the query modules lock the rows
they must.
"""

from __future__ import annotations

from contextlib import AbstractContextManager

from sqlalchemy.engine import Connection, Engine

from flowapp.store.sql.engine import create_store_engine, read_transaction, write_transaction
from flowapp.store.sql.errors import translated
from flowapp.store.sql.migrate import upgrade


class SqlBase:
    def __init__(self, url: str | Engine) -> None:
        self._owns_engine = not isinstance(url, Engine)
        self._engine = url if isinstance(url, Engine) else create_store_engine(url)

    @property
    def engine(self) -> Engine:
        """The SQLAlchemy engine (for tests, benchmarks and operational tools)."""
        return self._engine

    def _write(self) -> AbstractContextManager[Connection]:
        return write_transaction(self._engine)

    def _read(self) -> AbstractContextManager[Connection]:
        return read_transaction(self._engine)

    @translated
    def migrate(self) -> None:
        """``alembic upgrade head`` of the history shared with the execution store."""
        upgrade(self._engine)

    def close(self) -> None:
        """Dispose of the engine, unless it was handed in (its owner disposes of it)."""
        if self._owns_engine:
            self._engine.dispose()
