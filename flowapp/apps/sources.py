"""Project files in and out: folders, uploaded archives, and the trees deploys build from.

An uploaded archive is untrusted: members must be regular files or folders with relative
paths that stay inside the project (no ``..``, no ``.git``), and both the number of files
and their unpacked size are bounded. Each refusal names the member.

What ``flowapp deploy`` (and ``flowapp up --app``) sends of a folder is what git would
commit of it: the project's ``.gitignore`` files are honoured, and the folders of local
state, environments and caches (``.flowapp`` with the dev admin token and databases,
``.venv``, ``node_modules``, ``__pycache__`` ...) are never sent, whatever they say.
"""

from __future__ import annotations

import io
import os
import tarfile
from collections.abc import Mapping
from pathlib import Path

from dulwich.ignore import IgnoreFilterManager

from flowapp.apps.project import OutsideProject, project_path

IGNORED = frozenset(
    {
        ".flowapp",
        ".venv",
        "node_modules",
        "__pycache__",
        ".git",
        ".pytest_cache",
        ".mypy_cache",
        ".ruff_cache",
    }
)
MAX_UNPACKED = 256 << 20  # 256 MiB
MAX_FILES = 10_000


class BadArchive(ValueError):
    """An archive that cannot be a project; ``member`` is the offending member, if one."""

    def __init__(self, message: str, member: str | None = None) -> None:
        super().__init__(message)
        self.member = member


def read_tree(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` (relative POSIX paths), without build folders."""
    files = {}
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder)
        if any(part in IGNORED for part in relative.parts) or not path.is_file():
            continue
        files[relative.as_posix()] = path.read_bytes()
    return files


def write_tree(files: Mapping[str, bytes], folder: Path) -> None:
    """Write ``files`` under ``folder``; a name that would leave it is refused first."""
    targets = {folder / project_path(name): content for name, content in files.items()}
    for target, content in targets.items():
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)


def _member_path(name: str) -> str:
    """The member's path in the project, by the rules git keeps for a tree (it is committed
    to the app's repository next): relative, no ``..``, no ``.git`` in any letter case."""
    try:
        path = project_path(name.rstrip("/"))
    except OutsideProject as exc:
        raise BadArchive(
            f"archive member `{name}` leaves the project folder: {exc}", name
        ) from None
    parts = [part for part in path.split("/") if part != "."]
    if any(part.casefold() == ".git" for part in parts):
        message = f"archive member `{name}`: a project cannot contain `.git` (leave it out)"
        raise BadArchive(message, name)
    return "/".join(parts)


def unpack_archive(archive: bytes) -> dict[str, bytes]:
    """Files of a (gzipped) tar archive of a project folder; ``BadArchive`` names the first
    member that cannot be part of a project: absolute or ``..`` paths, ``.git``, links,
    devices and anything else that is not a regular file or a folder."""
    files: dict[str, bytes] = {}
    total = 0
    try:
        with tarfile.open(fileobj=io.BytesIO(archive), mode="r:*") as tar:
            for member in tar:
                name = _member_path(member.name)
                if member.isdir():
                    continue
                if not member.isfile():
                    kind = _KINDS.get(member.type, "not a regular file")
                    message = f"archive member `{member.name}` is {kind}: a project holds files"
                    raise BadArchive(message, member.name)
                if not name or any(part in IGNORED for part in name.split("/")):
                    continue
                if len(files) >= MAX_FILES:
                    raise BadArchive(f"the archive holds more than {MAX_FILES:,} files")
                total += member.size
                if total > MAX_UNPACKED:
                    raise BadArchive(f"the archive unpacks to more than {MAX_UNPACKED >> 20} MiB")
                extracted = tar.extractfile(member)
                files[name] = extracted.read() if extracted is not None else b""
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise BadArchive(f"not a readable tar archive: {exc}") from None
    _refuse_file_as_folder(files)
    return files


_KINDS = {
    tarfile.SYMTYPE: "a symbolic link",
    tarfile.LNKTYPE: "a hard link",
    tarfile.CHRTYPE: "a character device",
    tarfile.BLKTYPE: "a block device",
    tarfile.FIFOTYPE: "a FIFO",
}


def _refuse_file_as_folder(files: Mapping[str, bytes]) -> None:
    for name in files:
        parts = name.split("/")
        for depth in range(1, len(parts)):
            folder = "/".join(parts[:depth])
            if folder in files:
                raise BadArchive(f"`{folder}` is both a file and a folder (`{name}`)", name)


def read_project(folder: Path) -> dict[str, bytes]:
    """The files of a project folder that would be committed: those ``.gitignore`` files
    (at any depth) do not exclude, never the ``IGNORED`` folders."""
    ignores = IgnoreFilterManager(str(folder), [], ignorecase=False)
    files = {}
    for directory, folders, names in os.walk(folder):
        here = Path(directory).relative_to(folder)
        folders[:] = sorted(
            name
            for name in folders
            if name not in IGNORED and not ignores.is_ignored(_relative(here, name) + "/")
        )
        for name in sorted(names):
            relative = _relative(here, name)
            path = folder / relative
            if name == ".git" or ignores.is_ignored(relative) or not path.is_file():
                continue
            files[relative] = path.read_bytes()
    return files


def _relative(here: Path, name: str) -> str:
    return name if here == Path(".") else f"{here.as_posix()}/{name}"


def pack_folder(folder: Path) -> bytes:
    """A gzipped tar of a project folder (what ``flowapp deploy`` uploads), of the files
    ``read_project`` finds."""
    return pack_files(folder, read_project(folder))


def pack_files(folder: Path, files: Mapping[str, bytes]) -> bytes:
    """A gzipped tar of ``files`` of ``folder`` (their modes read from it)."""
    if len(files) > MAX_FILES:
        raise BadArchive(f"the project holds more than {MAX_FILES:,} files to send")
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, content in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(content)
            info.mode = (folder / name).stat().st_mode & 0o777
            tar.addfile(info, io.BytesIO(content))
    return buffer.getvalue()
