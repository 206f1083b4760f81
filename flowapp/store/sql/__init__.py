"""The SQL adapter of the store port: SQLite and PostgreSQL through SQLAlchemy Core."""

from flowapp.store.sql.store import SqlStore

__all__ = ["SqlStore"]
