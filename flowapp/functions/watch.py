"""Reload functions whose code changed: polling file modification times, no dependency.

``flowapp dev`` runs :func:`watch` next to the supervisor. Every ``interval`` it takes a
:func:`snapshot` of each function's folder (path -> (mtime_ns, size), skipping
dependency and cache folders) and calls ``supervisor.reload(name)`` for each folder whose
snapshot differs from the last one. Polling a few dozen files twice a second costs far
less than a reload, and works on every file system (including mounted ones where inotify
events never arrive).
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Protocol

from flowapp.functions.spec import FunctionSpec

IGNORED_DIRS = frozenset({".venv", "node_modules", "__pycache__", ".git", ".mypy_cache", "target"})
Snapshot = dict[str, tuple[int, int]]

log = logging.getLogger(__name__)


class Reloadable(Protocol):
    @property
    def specs(self) -> dict[str, FunctionSpec]: ...

    async def reload(self, name: str) -> None: ...


def snapshot(folder: Path) -> Snapshot:
    """Modification time and size of every file under ``folder`` (missing folder: empty)."""
    files: Snapshot = {}
    for root, dirs, names in os.walk(folder):
        dirs[:] = [d for d in dirs if d not in IGNORED_DIRS]
        for name in names:
            path = os.path.join(root, name)
            try:
                stat = os.stat(path)
            except OSError:  # deleted between listing and stat
                continue
            files[path] = (stat.st_mtime_ns, stat.st_size)
    return files


async def watch(
    supervisor: Reloadable, *, names: Iterable[str] | None = None, interval: float = 0.5
) -> None:
    """Poll forever (cancel the task to stop); reload each function whose files change."""
    folders = {name: spec.path for name, spec in supervisor.specs.items()}
    chosen = list(names) if names is not None else list(folders)
    last = {name: await asyncio.to_thread(snapshot, folders[name]) for name in chosen}
    while True:
        await asyncio.sleep(interval)
        for name in chosen:
            current = await asyncio.to_thread(snapshot, folders[name])
            if current != last[name]:
                last[name] = current
                log.info("files of function %s changed: reloading", name)
                await supervisor.reload(name)
