"""The files of a project as the loader sees them: a folder on disk, or files in memory.

Every path a FlowApp names (``spec.workflowRef``, a function's ``path``, the environment's
``config/<environment>.yaml``) comes from its author, and on ``flowapp up`` its author is
whoever holds a token: the path is checked here before anything is read, and nothing
outside the project can be reached through it.

- ``project_path`` refuses what can never name a file of a project: an absolute path,
  ``..`` anywhere, an empty name, a NUL byte. No ``..`` at all, even one that would come
  back inside (``functions/../functions/a``): a project has no reason to write one, and a
  rule with no exception cannot be argued around.
- ``FolderProject`` resolves symbolic links before it reads, and refuses a path whose
  real location is outside the folder's real location.
- ``MemoryProject`` holds the files of a request (an API resource with its scaffolded
  starter code, an uploaded archive): checking them reads no disk and writes nothing.

Problems name files as ``show`` gives them: in memory, the path inside the project
(``workflow.yaml``); on disk, the path on disk, as ``flowapp validate`` users expect.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator, Mapping
from pathlib import Path, PurePosixPath
from typing import Protocol

from flowapp.dsl.problems import DefinitionError, Problem
from flowapp.dsl.source import Limits, SourceDocument, parse_bytes

# What reading one document of a project may cost (``flowapp.dsl.source.Limits``): the
# defaults of the core, and a time budget on the monotonic clock, which the core may not read.
DOCUMENT_LIMITS = Limits(clock=time.monotonic)

# Folders a build or a tool writes next to the code: never part of a project's content.
IGNORED_DIRECTORIES = frozenset(
    {".venv", "node_modules", "__pycache__", ".git", ".pytest_cache", ".mypy_cache", ".ruff_cache"}
)


class OutsideProject(ValueError):
    """A path that does not name a place inside the project; the message says why."""


def project_path(relative: object) -> str:
    """``relative`` as a normalised POSIX path inside a project (``"."`` for its root).

    ``OutsideProject`` messages start with the path, so callers can say what it is:
    ``f"folder {exc}"``."""
    if not isinstance(relative, str) or not relative.strip():
        raise OutsideProject(f"`{relative}` is not a path: a path is a non-empty string")
    if "\0" in relative:
        raise OutsideProject(f"{relative!r} is not a path: it holds a NUL character")
    path = PurePosixPath(relative)
    if path.is_absolute() or relative.startswith("~"):
        raise OutsideProject(f"`{relative}` is outside the project folder: give a relative path")
    if ".." in path.parts:
        raise OutsideProject(f"`{relative}` is outside the project folder: `..` is not allowed")
    return path.as_posix()


class ProjectFiles(Protocol):
    """What the loader reads a project through. Every method takes a path relative to the
    project and raises ``OutsideProject`` for one that leaves it."""

    @property
    def root(self) -> Path:
        """Where the project's files are (or would be, for files in memory)."""

    def show(self, relative: str) -> str:
        """The file's name in problems."""

    def is_file(self, relative: str) -> bool: ...

    def is_dir(self, relative: str) -> bool: ...

    def read_bytes(self, relative: str) -> bytes:
        """The file's bytes; ``OSError`` (``FileNotFoundError``) if it cannot be read."""

    def files_under(self, folder: str) -> Iterator[tuple[str, bytes]]:
        """Every file under ``folder`` (paths relative to it, sorted), build folders left
        out (``IGNORED_DIRECTORIES``)."""


class FolderProject:
    """A project folder on disk; symbolic links are followed only inside it."""

    def __init__(self, root: Path) -> None:
        self._root = root.absolute()
        self._real_root = Path(os.path.realpath(self._root))

    @property
    def root(self) -> Path:
        return self._root

    def show(self, relative: str) -> str:
        return str(self._root / project_path(relative))

    def real(self, relative: str) -> Path:
        """The real location of ``relative``, which must be inside the project."""
        real = Path(os.path.realpath(self._root / project_path(relative)))
        if not self._inside(real):
            raise OutsideProject(f"`{relative}` is outside the project folder (a symbolic link)")
        return real

    def is_file(self, relative: str) -> bool:
        return self.real(relative).is_file()

    def is_dir(self, relative: str) -> bool:
        return self.real(relative).is_dir()

    def read_bytes(self, relative: str) -> bytes:
        return self.real(relative).read_bytes()

    def files_under(self, folder: str) -> Iterator[tuple[str, bytes]]:
        base = self.real(folder)
        found = []
        for directory, directories, files in os.walk(base):
            # Pruning in place stops os.walk from descending into build output at all.
            directories[:] = [d for d in directories if d not in IGNORED_DIRECTORIES]
            for name in files:
                path = Path(directory, name)
                real = Path(os.path.realpath(path))
                # A dangling link is not content; one that leaves the project is not ours.
                if self._inside(real) and real.is_file():
                    found.append((path.relative_to(base).as_posix(), real))
        for relative, real in sorted(found):
            yield relative, real.read_bytes()

    def _inside(self, real: Path) -> bool:
        return real == self._real_root or self._real_root in real.parents


class MemoryProject:
    """The files of a project held in memory: ``{"workflow.yaml": b"..."}``."""

    def __init__(self, files: Mapping[str, bytes], root: Path = Path(".")) -> None:
        self._root = root
        self._files = {project_path(name): data for name, data in files.items()}
        self._folders = {"."}
        for name in self._files:
            parts = name.split("/")
            self._folders.update("/".join(parts[:end]) for end in range(1, len(parts)))

    @property
    def root(self) -> Path:
        return self._root

    def show(self, relative: str) -> str:
        return project_path(relative)

    def is_file(self, relative: str) -> bool:
        return project_path(relative) in self._files

    def is_dir(self, relative: str) -> bool:
        return project_path(relative) in self._folders

    def read_bytes(self, relative: str) -> bytes:
        name = project_path(relative)
        if name not in self._files:
            raise FileNotFoundError(f"no file {name} in the project")
        return self._files[name]

    def files_under(self, folder: str) -> Iterator[tuple[str, bytes]]:
        base = project_path(folder)
        prefix = "" if base == "." else f"{base}/"
        for name in sorted(self._files):
            if not name.startswith(prefix):
                continue
            relative = name[len(prefix) :]
            if not any(part in IGNORED_DIRECTORIES for part in relative.split("/")[:-1]):
                yield relative, self._files[name]


def read_project_source(
    project: ProjectFiles,
    relative: str,
    *,
    allow_empty: bool = False,
    what: str = "a workflow document",
) -> SourceDocument:
    """The parsed file at ``relative`` (checked first: ``OutsideProject`` if it leaves the
    project); ``DefinitionError`` if it cannot be read or parsed."""
    file = project.show(relative)
    try:
        raw = project.read_bytes(relative)
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise DefinitionError([Problem("", f"cannot read the file: {reason}", file)]) from None
    return parse_bytes(raw, file, allow_empty=allow_empty, what=what, limits=DOCUMENT_LIMITS)
