"""The SQL adapter of the platform store: SQLite and PostgreSQL through SQLAlchemy Core,
sharing the execution store's engine factory, ``MetaData`` and Alembic history."""

from flowapp.store.platform.sql.store import SqlPlatformStore

__all__ = ["SqlPlatformStore"]
