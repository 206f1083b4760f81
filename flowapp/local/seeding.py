"""``flowapp up --app DIR``: a project folder seeds its app, and later only its own changes
reach the app, so what was pushed to the app's repository since is never overwritten.

    folder --read_project--> files --digest--> compared with <data>/seeds/<app>.json
      app missing                  -> created from the folder, deployed   ("seeded")
      folder changed since it seeded -> committed on top, deployed        ("updated")
      folder unchanged             -> nothing sent: the repository's main serves ("kept")
      app exists, no record        -> nothing sent; the folder is recorded ("kept")

The record holds the digest of the files the folder had when it last reached the app;
it lives in the data directory, beside what it describes.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from flowapp.apps.sources import pack_files, read_project

if TYPE_CHECKING:
    from flowapp.local.platform import LocalPlatform
    from flowapp.server.platform import Progress


@dataclass(frozen=True, slots=True)
class Seeded:
    app: str
    action: str  # seeded | updated | kept
    message: str


def folder_digest(files: dict[str, bytes]) -> str:
    """The digest of a project's files (names and contents, in name order)."""
    digest = hashlib.sha256()
    for name in sorted(files):
        content = files[name]
        digest.update(f"{name}\0{len(content)}\0".encode())
        digest.update(content)
    return digest.hexdigest()


async def seed_from_folder(
    platform: LocalPlatform, app: str, folder: Path, *, progress: Progress | None = None
) -> Seeded:
    """Bring ``folder`` (the project of ``app``) to the platform as the module says."""
    files = await asyncio.to_thread(read_project, folder)
    digest = folder_digest(files)
    record = platform.data_dir / "seeds" / f"{app}.json"
    seen = await asyncio.to_thread(_read_digest, record)
    exists = await asyncio.to_thread(platform.platform_store.get_app, app) is not None
    if exists and seen in (digest, None):
        await asyncio.to_thread(_write_digest, record, folder, digest)
        return Seeded(app, "kept", KEPT if seen else KEPT_FIRST)
    archive = await asyncio.to_thread(pack_files, folder, files)
    view = await platform.upload_source(app, archive, progress=progress)
    await asyncio.to_thread(_write_digest, record, folder, digest)
    if exists:
        return Seeded(app, "updated", f"{UPDATED}: {view.message}")
    return Seeded(app, "seeded", f"created from the folder: {view.message}")


KEPT = "kept as its repository has it: the folder has not changed since it reached the app"
KEPT_FIRST = (
    "exists already: kept as its repository has it (the folder will update it once the "
    "folder changes)"
)
UPDATED = "the folder changed since it last reached the app: committed on top of main"


def _read_digest(record: Path) -> str | None:
    try:
        found = json.loads(record.read_text())
    except (OSError, ValueError):
        return None
    digest = found.get("digest") if isinstance(found, dict) else None
    return digest if isinstance(digest, str) else None


def _write_digest(record: Path, folder: Path, digest: str) -> None:
    record.parent.mkdir(parents=True, exist_ok=True)
    temporary = record.with_suffix(".tmp")
    temporary.write_text(json.dumps({"folder": str(folder), "digest": digest}))
    temporary.replace(record)
