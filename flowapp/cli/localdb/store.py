"""Opening the store a command was given, with errors that name the option.

The default store (``$FLOWAPP_HOME/flowapp.db``) is flowapp's own: its folder is created.
A store the user named (``--db`` or ``$FLOWAPP_DB``) is taken as given: a SQLite file in
a folder that does not exist is a mistake to report (a typo would otherwise create
folders anywhere the user may write), and so is a scheme no adapter serves.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from flowapp.cli.failures import InvalidInput
from flowapp.cli.settings import flowapp_home

SCHEMES = ("sqlite", "postgresql", "postgres", "postgresql+psycopg", "memory")
EXAMPLES = "sqlite:///path/to/flowapp.db or postgresql://user@host/db"


@dataclass(frozen=True, slots=True)
class StoreChoice:
    url: str
    named_by: str | None  # "--db" or "$FLOWAPP_DB"; None for the default


def choose_store(db: str | None) -> StoreChoice:
    if db is not None:
        return StoreChoice(db, "--db")
    if os.environ.get("FLOWAPP_DB"):
        return StoreChoice(os.environ["FLOWAPP_DB"], "$FLOWAPP_DB")
    return StoreChoice(f"sqlite:///{flowapp_home() / 'flowapp.db'}", None)


def checked_url(choice: StoreChoice) -> str:
    """The URL to open, once it is one flowapp can open; the default's folder is made."""
    url = choice.url
    scheme = urlsplit(url).scheme.lower() if "://" in url else "sqlite"
    if scheme not in SCHEMES:
        raise InvalidInput(
            f"{choice.named_by} {url}: flowapp cannot store in `{scheme}`",
            hint=f"use {EXAMPLES}",
        )
    if scheme != "sqlite":
        return url
    file = Path(url.split("://", 1)[1][1:] if "://" in url else url).expanduser()
    if choice.named_by is None:
        file.parent.mkdir(parents=True, exist_ok=True)
    elif not file.parent.is_dir():
        raise InvalidInput(
            f"{choice.named_by} {url}: the folder {file.parent} does not exist",
            hint="create it first, or name a file in an existing folder",
        )
    return url


def open_local_store(db: str | None) -> Any:
    """The store, migrated; errors are the store's (reported by ``flowapp.cli.main``)."""
    from flowapp.store import open_store

    choice = choose_store(db)
    url = checked_url(choice)
    try:
        store = open_store(url)
    except Exception as error:
        if _refused_url(error):
            raise InvalidInput(f"{choice.named_by or 'store'} {url}: {error}") from None
        raise
    try:
        store.migrate()
    except BaseException:
        store.close()
        raise
    return store


@contextmanager
def local_store(db: str | None) -> Iterator[Any]:
    store = open_local_store(db)
    try:
        yield store
    finally:
        store.close()


def _refused_url(error: Exception) -> bool:
    """A URL the adapter refuses, in its own words (SQLAlchemy's ``ArgumentError`` for
    one it cannot parse)."""
    from sqlalchemy.exc import ArgumentError

    return isinstance(error, ValueError | ArgumentError)


def describe(db: str | None) -> str:
    """Where a command reads, for the title of what it prints."""
    return f"the local store {choose_store(db).url}"
