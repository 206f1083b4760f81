"""An upload whose content is refused leaves nothing behind: no app record, no
repository, whether the refusal comes from the archive, the project's check or the
repository that would store it."""

from __future__ import annotations

import asyncio
import io
import tarfile
from pathlib import Path

import pytest

from flowapp.apps.sources import pack_folder
from flowapp.gitrepos.errors import InvalidPath
from flowapp.server import platform as p

from .lifecycle_apps import CHARGE_FIXED, ORDERS, orders_project, running


async def nothing_left(up: object, data: Path) -> None:
    platform = up.platform  # type: ignore[attr-defined]
    assert [app.name for app in await platform.list_apps()] == []
    assert not (data / "repos" / "orders.git").exists()


async def test_a_refused_upload_creates_no_app(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = tmp_path / "data"
    async with running(data) as up:
        broken = orders_project(
            tmp_path / "broken",
            charge=CHARGE_FIXED,
            resource=ORDERS.replace("call: count", "call: 7"),
        )
        with pytest.raises(p.InvalidResource):
            await up.platform.upload_source("orders", pack_folder(broken))
        await nothing_left(up, data)

        monkeypatch.setattr("flowapp.apps.sources.MAX_FILES", 2)
        fine = orders_project(tmp_path / "fine", charge=CHARGE_FIXED)
        archive = await asyncio.to_thread(_pack_all, fine)
        with pytest.raises(p.PlatformError, match="more than 2 files"):
            await up.platform.upload_source("orders", archive)
        await nothing_left(up, data)
        monkeypatch.undo()

        def refuse(*args: object, **kwargs: object) -> str:
            raise InvalidPath("`functions/x` cannot be written")

        monkeypatch.setattr(up.platform.repositories, "create", refuse)
        with pytest.raises(p.InvalidResource, match="cannot be stored"):
            await up.platform.upload_source("orders", pack_folder(fine))
        await nothing_left(up, data)


def _pack_all(folder: Path) -> bytes:
    """The folder packed whole (``pack_folder`` itself refuses a project over the limit)."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                tar.add(path, arcname=path.relative_to(folder).as_posix())
    return buffer.getvalue()
