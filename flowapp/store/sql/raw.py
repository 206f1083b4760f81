"""The commit path's statements, compiled once and run straight on the driver's cursor.

Group commit runs a handful of bulk statements per transaction, thousands of times a
second. SQLAlchemy's execution machinery (contexts, events, result objects) costs about
0.1-0.15 ms per statement on this machine, more than SQLite takes to run it; so the
statements built in ``statements.py`` are compiled here once per dialect and parameter
shape, and their parameters pass through the same bind processors SQLAlchemy would use
(JSON serialisation included) before ``cursor.executemany``. A statement with one
expanding ``IN`` parameter (the batch's lock, the consumed signals) is rendered once per
number of values. The driver's errors are raised as SQLAlchemy would raise them, for
``errors.py`` to convert. Everything else in the store keeps using SQLAlchemy as usual.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import exc
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


@dataclass(frozen=True, slots=True)
class _Expanded:
    """A statement with its ``IN`` list rendered for a number of values: its parameters
    are the values in ``order`` (positional), or named ``keys`` in that order."""

    sql: str
    keys: tuple[str, ...]
    order: tuple[int, ...]
    positional: bool

    def parameters(self, values: Sequence[Any]) -> Any:
        if self.positional:
            return [values[index] for index in self.order]
        return {key: values[index] for key, index in zip(self.keys, self.order, strict=True)}


class RawStatements:
    """Compiled forms of write statements, by statement and parameter keys."""

    def __init__(self, dialect: Dialect) -> None:
        self.dialect = dialect
        self._cache: dict[tuple[int, tuple[str, ...]], _Compiled] = {}
        self._expanded: dict[tuple[int, int], _Expanded] = {}
        self._driver_error: type[Exception] = getattr(dialect.loaded_dbapi, "Error", Exception)

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
            with self._translated(compiled.sql):
                if len(params) == 1:
                    cursor.execute(compiled.sql, params[0])
                else:
                    cursor.executemany(compiled.sql, params)
        finally:
            cursor.close()

    def execute_in(
        self, conn: Connection, statement: Any, name: str, values: Sequence[Any]
    ) -> list[Any]:
        """Run ``statement`` with its expanding parameter ``name`` set to ``values``; the
        rows it returns (as the driver's tuples), if any."""
        expanded = self._expand(statement, name, len(values))
        cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        try:
            with self._translated(expanded.sql):
                cursor.execute(expanded.sql, expanded.parameters(values))
                return list(cursor.fetchall()) if cursor.description else []
        finally:
            cursor.close()

    def _expand(self, statement: Any, name: str, count: int) -> _Expanded:
        cached = self._expanded.get((id(statement), count))
        if cached is not None:
            return cached
        compiled = statement.compile(dialect=self.dialect)
        # Rendered with the values' own positions as values, to learn where each goes.
        state = compiled.construct_expanded_state({name: list(range(count))})
        keys = tuple(state.positiontup or state.parameters)
        order = tuple(state.parameters[key] for key in keys)
        result = _Expanded(state.statement, keys, order, bool(compiled.positional))
        self._expanded[(id(statement), count)] = result
        return result

    @contextmanager
    def _translated(self, sql: str) -> Iterator[None]:
        try:
            yield
        except self._driver_error as error:
            raise exc.DBAPIError.instance(sql, None, error, self._driver_error) from error
