"""One app's engine replicas share a database; apps sharing a server keep apart by schema.

On a cluster every app of a namespace gets the same database Secret, but the engines of
two apps must not share tables: a replica claims any unfinished execution it finds, and
one of another app would fail there (its functions are not this engine's). So each app's
tables live in a PostgreSQL schema of their own (``flowapp_<app>``, created at start),
which its replicas name in their connections' ``search_path``: the stores, their
migrations and their advisory locks work unchanged inside it. A SQLite or in-memory
store is one app's already and is left as it is.
"""

from __future__ import annotations

import contextlib
import hashlib

import psycopg
from psycopg import sql
from sqlalchemy.engine import make_url

from flowapp.cluster.leader import libpq_url

MAX_IDENTIFIER = 63  # PostgreSQL truncates longer names


def is_postgresql(url: str) -> bool:
    return "://" in url and make_url(url).get_backend_name() == "postgresql"


def schema_name(app: str) -> str:
    """``flowapp_<app>`` with ``-`` as ``_``; shortened with a digest past 63 characters."""
    name = "flowapp_" + app.replace("-", "_")
    if len(name) <= MAX_IDENTIFIER:
        return name
    digest = hashlib.sha256(app.encode()).hexdigest()[:12]
    return f"{name[: MAX_IDENTIFIER - 13]}_{digest}"


def in_schema(url: str, schema: str) -> str:
    """The store URL whose connections use ``schema`` (``options=-csearch_path=...``)."""
    parsed = make_url(url)
    options = parsed.query.get("options")
    extra = f"-csearch_path={schema}"
    if isinstance(options, tuple):
        options = " ".join(options)
    combined = f"{options} {extra}" if options else extra
    return parsed.update_query_dict({"options": combined}).render_as_string(hide_password=False)


def prepare_schema(url: str, schema: str) -> str:
    """Create ``schema`` if missing (blocking); the URL to open the app's stores with."""
    with psycopg.connect(libpq_url(url), autocommit=True, connect_timeout=5) as connection:
        statement = sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(schema))
        # Another replica may create it at the same moment: it exists either way.
        with contextlib.suppress(psycopg.errors.UniqueViolation):
            connection.execute(statement)
    return in_schema(url, schema)
