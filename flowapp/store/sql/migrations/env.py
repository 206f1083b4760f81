"""Alembic environment of the SQL store.

``SqlStore.migrate()`` (``../migrate.py``) passes an open connection, already inside
a transaction, in ``config.attributes``; this file only runs the scripts on it. Offline
mode (``alembic upgrade head --sql`` with a ``sqlalchemy.url``) prints the SQL instead,
for operators who apply schema changes by hand.
"""

from __future__ import annotations

from alembic import context

import flowapp.store.platform.sql.tables  # noqa: F401 (registers the platform tables)
from flowapp.store.sql.tables import metadata

config = context.config
version_table = config.attributes.get("version_table", "flowapp_store_version")

if context.is_offline_mode():
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        target_metadata=metadata,
        version_table=version_table,
        literal_binds=True,
    )
    with context.begin_transaction():
        context.run_migrations()
else:
    connection = config.attributes.get("connection")
    if connection is None:
        raise RuntimeError("run store migrations through SqlStore.migrate()")
    context.configure(connection=connection, target_metadata=metadata, version_table=version_table)
    with context.begin_transaction():
        context.run_migrations()
