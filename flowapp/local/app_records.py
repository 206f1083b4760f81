"""An app's record in the platform store, read and written the same way by every part of
the platform (store calls are blocking: they run in a worker thread)."""

from __future__ import annotations

import asyncio

from flowapp.apps import FlowApp
from flowapp.server import platform as p
from flowapp.store.platform.port import AppStore
from flowapp.store.platform.records import AppExists, AppRecord


async def require_app(store: AppStore, name: str) -> AppRecord:
    """The app's record; ``NotFound`` (404) when there is no such app."""
    record = await asyncio.to_thread(store.get_app, name)
    if record is None:
        raise p.NotFound(f"no app named {name}")
    return record


async def ensure_app_record(store: AppStore, app: FlowApp, *, now: float) -> bool:
    """Create the app's record, or update its resource; True if it was created."""
    try:
        await asyncio.to_thread(
            lambda: store.create_app(
                app.name, namespace=app.namespace, resource=app.resource, now=now
            )
        )
    except AppExists:
        await asyncio.to_thread(lambda: store.update_app(app.name, resource=app.resource, now=now))
        return False
    return True
