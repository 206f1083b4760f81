"""Driver errors become store errors here, at the edge of the adapter.

The runtime only knows the port's errors, and their type carries the retry behaviour:
``StoreUnavailable`` (back off and try again: the server is down or restarting, the
connection was lost, the database is locked or a transaction was chosen as a deadlock
victim) and ``StoreError`` (retrying will not help: a missing table, a constraint, a
value that is not JSON). Deciding which is which needs the driver's own codes: SQLSTATE
classes on PostgreSQL, the extended result code on SQLite.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import wraps
from typing import ParamSpec, TypeVar

import orjson
from sqlalchemy import exc

from flowapp.store.port import StoreError, StoreUnavailable

# SQLSTATE classes worth a retry: 08 connection exception, 40 transaction rollback
# (serialization failure, deadlock), 53 insufficient resources, 57 operator intervention
# (admin shutdown, crash shutdown, cannot connect now, query cancelled), 55P03 lock
# not available.
P = ParamSpec("P")
R = TypeVar("R")

_TRANSIENT_SQLSTATE_CLASSES = frozenset({"08", "40", "53", "57"})
_TRANSIENT_SQLSTATES = frozenset({"55P03"})
# SQLite primary result codes worth a retry: BUSY, LOCKED, IOERR, CANTOPEN, PROTOCOL.
_TRANSIENT_SQLITE_CODES = frozenset({5, 6, 10, 14, 15})


def is_transient(error: exc.DBAPIError) -> bool:
    if error.connection_invalidated:
        return True
    original = error.orig
    sqlstate = getattr(original, "sqlstate", None)
    if isinstance(sqlstate, str) and sqlstate:
        return sqlstate[:2] in _TRANSIENT_SQLSTATE_CLASSES or sqlstate in _TRANSIENT_SQLSTATES
    code = getattr(original, "sqlite_errorcode", None)
    if isinstance(code, int):
        return code & 0xFF in _TRANSIENT_SQLITE_CODES
    # psycopg raises OperationalError without a SQLSTATE when it cannot connect at all.
    return isinstance(error, exc.OperationalError | exc.InterfaceError)


@contextmanager
def translate_errors(action: str) -> Iterator[None]:
    """Run a store operation, converting SQLAlchemy and driver errors on the way out."""
    try:
        yield
    except StoreError:
        raise
    except exc.DBAPIError as error:
        kind = StoreUnavailable if is_transient(error) else StoreError
        raise kind(f"{action}: {_describe(error)}") from error
    except (exc.TimeoutError, exc.DisconnectionError) as error:
        # The pool could not hand out a connection in time, or a ping failed for good.
        raise StoreUnavailable(f"{action}: {error}") from error
    except exc.SQLAlchemyError as error:
        raise StoreError(f"{action}: {error}") from error
    except orjson.JSONEncodeError as error:
        # psycopg serialises JSON inside execute(); SQLAlchemy lets the error through.
        raise StoreError(f"{action}: value is not JSON: {error}") from error


def _describe(error: exc.DBAPIError) -> str:
    text = str(error.orig).strip() or type(error.orig).__name__
    return text.splitlines()[0]


def translated(method: Callable[P, R]) -> Callable[P, R]:
    """Every public method reports failures as the port's errors, never the driver's."""

    @wraps(method)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        with translate_errors(method.__name__):
            return method(*args, **kwargs)

    return wrapper
