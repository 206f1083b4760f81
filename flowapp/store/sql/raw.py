"""The commit path's statements, compiled once and run straight on the driver's cursor.

Group commit runs a handful of bulk statements per transaction, thousands of times a
second. SQLAlchemy's execution machinery (contexts, events, result objects) costs about
0.1-0.15 ms per statement on this machine, more than SQLite takes to run it; so the
statements built in ``statements.py`` are compiled here once per dialect and parameter
shape, and their parameters pass through the same bind processors SQLAlchemy would use
(JSON serialisation included) before ``cursor.executemany``. Everything else in the
store keeps using SQLAlchemy as usual.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.engine import Connection, Dialect


@dataclass(frozen=True, slots=True)
class _Compiled:
    sql: str
    names: tuple[str, ...]
    processors: tuple[Callable[[Any], Any] | None, ...]
    positional: bool

    def parameters(self, row: dict[str, Any]) -> Any:
        values = [
            row[name] if processor is None else processor(row[name])
            for name, processor in zip(self.names, self.processors, strict=True)
        ]
        return values if self.positional else dict(zip(self.names, values, strict=True))


class RawStatements:
    """Compiled forms of write statements, by statement and parameter keys."""

    def __init__(self, dialect: Dialect) -> None:
        self.dialect = dialect
        self._cache: dict[tuple[int, tuple[str, ...]], _Compiled] = {}

    def _compile(self, statement: Any, keys: tuple[str, ...]) -> _Compiled:
        cached = self._cache.get((id(statement), keys))
        if cached is not None:
            return cached
        compiled = statement.compile(dialect=self.dialect, column_keys=list(keys))
        positional = bool(compiled.positional)
        names = tuple(compiled.positiontup or ()) if positional else tuple(compiled.binds)
        processors = tuple(compiled._bind_processors.get(name) for name in names)
        result = _Compiled(str(compiled), names, processors, positional)
        self._cache[(id(statement), keys)] = result
        return result

    def execute_many(
        self, conn: Connection, statement: Any, rows: Sequence[dict[str, Any]]
    ) -> None:
        if not rows:
            return
        compiled = self._compile(statement, tuple(rows[0]))
        cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        try:
            params = [compiled.parameters(row) for row in rows]
            if len(params) == 1:
                cursor.execute(compiled.sql, params[0])
            else:
                cursor.executemany(compiled.sql, params)
        finally:
            cursor.close()
