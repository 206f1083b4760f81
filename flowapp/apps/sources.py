"""Project files in and out: folders, uploaded archives, and the trees deploys build from.

An uploaded archive is untrusted: members must be regular files or folders with relative
paths that stay inside the project, and the unpacked size is bounded.
"""

from __future__ import annotations

import io
import tarfile
from collections.abc import Mapping
from pathlib import Path, PurePosixPath

IGNORED = frozenset(
    {".venv", "node_modules", "__pycache__", ".git", ".pytest_cache", ".mypy_cache"}
)
MAX_UNPACKED = 256 << 20  # 256 MiB


class BadArchive(ValueError):
    pass


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
    for name, content in files.items():
        target = folder / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)


def _member_path(name: str) -> str:
    path = PurePosixPath(name)
    if path.is_absolute() or ".." in path.parts:
        raise BadArchive(f"archive member {name!r} leaves the project folder")
    parts = [p for p in path.parts if p not in ("", ".")]
    return "/".join(parts)


def unpack_archive(archive: bytes) -> dict[str, bytes]:
    """Files of a (gzipped) tar archive of a project folder."""
    files: dict[str, bytes] = {}
    total = 0
    try:
        with tarfile.open(fileobj=io.BytesIO(archive), mode="r:*") as tar:
            for member in tar:
                if member.isdir():
                    continue
                if not member.isfile():
                    raise BadArchive(f"archive member {member.name!r} is not a regular file")
                name = _member_path(member.name)
                if not name or any(part in IGNORED for part in name.split("/")):
                    continue
                total += member.size
                if total > MAX_UNPACKED:
                    raise BadArchive(f"the archive unpacks to more than {MAX_UNPACKED >> 20} MiB")
                extracted = tar.extractfile(member)
                files[name] = extracted.read() if extracted is not None else b""
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise BadArchive(f"not a readable tar archive: {exc}") from None
    return files


def pack_folder(folder: Path) -> bytes:
    """A gzipped tar of a project folder (what ``flowapp deploy`` uploads)."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, content in read_tree(folder).items():
            info = tarfile.TarInfo(name)
            info.size = len(content)
            info.mode = (folder / name).stat().st_mode & 0o777
            tar.addfile(info, io.BytesIO(content))
    return buffer.getvalue()
