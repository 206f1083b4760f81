"""Where the local platform keeps each app's source: the ``Repositories`` it needs, and
``FolderSources``, plain folders for when there is no git hosting (tests, embedding).
``flowapp up`` uses git repositories (``flowapp.gitrepos.Repositories``)."""

from __future__ import annotations

import shutil
import uuid
from pathlib import Path
from typing import Protocol

from flowapp.apps.sources import read_tree, write_tree


class Repositories(Protocol):
    def exists(self, app: str) -> bool: ...
    def create(self, app: str, files: dict[str, bytes], *, message: str, author: str) -> str: ...
    def commit_tree(
        self, app: str, files: dict[str, bytes], *, message: str, author: str
    ) -> str: ...
    def head(self, app: str) -> str | None: ...
    def export(self, app: str, commit: str, target_dir: Path) -> None: ...
    def delete(self, app: str) -> None: ...


class FolderSources:
    """Repositories without git: each app's latest source as a plain folder."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def exists(self, app: str) -> bool:
        return (self.root / app).is_dir()

    def create(self, app: str, files: dict[str, bytes], *, message: str, author: str) -> str:
        return self.commit_tree(app, files, message=message, author=author)

    def commit_tree(self, app: str, files: dict[str, bytes], *, message: str, author: str) -> str:
        folder = self.root / app
        shutil.rmtree(folder, ignore_errors=True)
        write_tree(files, folder)
        return uuid.uuid4().hex

    def head(self, app: str) -> str | None:
        return "folder" if self.exists(app) else None

    def export(self, app: str, commit: str, target_dir: Path) -> None:
        write_tree(read_tree(self.root / app), target_dir)

    def delete(self, app: str) -> None:
        shutil.rmtree(self.root / app, ignore_errors=True)
