"""Files to git trees and back: what a commit holds, built from bytes and written to disk.

A project travels as a ``Files`` mapping: relative POSIX paths to contents, plain ``bytes``
for an ordinary file or a ``File`` when the mode matters (an executable script, a
symbolic link). ``store_files`` turns a mapping into blobs and trees in a repository's
object store and returns the root tree's id; ``write_tree`` does the reverse into a
directory a deploy builds from; ``read_directory`` reads a folder (a scaffolded project,
an unpacked upload) into a mapping.

Paths are checked on the way in, because git refuses trees with ``..`` or ``.git`` in
them (``git fsck``, and clones fail), and again on the way out, because a pushed tree is
user input and must never write outside the target directory: no absolute paths, no
``..``, and no symbolic link that resolves outside the tree once everything is written.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from dulwich.index import commit_tree
from dulwich.object_store import BaseObjectStore, iter_tree_contents
from dulwich.objects import Blob, ObjectID, ShaFile

from flowapp.gitrepos.errors import GitRepoError, InvalidPath

REGULAR = 0o100644
EXECUTABLE = 0o100755
SYMLINK = 0o120000
_GITLINK = 0o160000  # a submodule: a commit of another repository, checked out as a folder


@dataclass(frozen=True, slots=True)
class File:
    """A file's contents and git mode: ``REGULAR``, ``EXECUTABLE`` or ``SYMLINK``.

    For a symbolic link, ``data`` is the link's target, as ``os.readlink`` gives it.
    """

    data: bytes
    mode: int = REGULAR

    def __post_init__(self) -> None:
        if self.mode not in (REGULAR, EXECUTABLE, SYMLINK):
            raise ValueError(f"file mode {self.mode:o} is not one git stores for a file")


Files = Mapping[str, "bytes | File"]
"""Relative POSIX paths (``functions/append/main.py``) to contents."""


def as_file(value: bytes | File) -> File:
    return value if isinstance(value, File) else File(bytes(value))


def check_path(path: str) -> str:
    """``path`` if it can name a file in a project; ``InvalidPath`` says why otherwise."""
    parts = path.split("/")
    for part in parts:
        if part in ("", ".", "..") or "\0" in part:
            raise InvalidPath(f"`{path}` is not a relative path of a file (no '', '.', '..')")
        if part.casefold() == ".git":
            raise InvalidPath(f"`{path}`: a project cannot contain `.git`")
    return path


def store_files(store: BaseObjectStore, files: Files) -> ObjectID:
    """Add ``files`` to ``store`` as blobs and trees; the root tree's id."""
    paths = sorted(check_path(path) for path in files)
    _refuse_file_as_folder(paths)
    blobs: dict[ObjectID, ShaFile] = {}
    entries = []
    for path in paths:
        file = as_file(files[path])
        blob = Blob.from_string(file.data)
        blobs[blob.id] = blob
        entries.append((path.encode("utf-8"), blob.id, file.mode))
    if blobs:
        # One pack for all blobs rather than a loose object file per blob.
        store.add_objects([(blob, None) for blob in blobs.values()])
    return commit_tree(store, entries)


def _refuse_file_as_folder(paths: list[str]) -> None:
    files = set(paths)
    for path in paths:
        parts = path.split("/")
        for depth in range(1, len(parts)):
            folder = "/".join(parts[:depth])
            if folder in files:
                raise InvalidPath(f"`{folder}` is both a file and a folder (`{path}`)")


def write_tree(store: BaseObjectStore, tree_id: ObjectID, target: Path) -> None:
    """Write the tree ``tree_id`` into the folder ``target`` (created; must be new or empty).

    Files are created as git does, 0777 (executables) or 0666 less the umask: 755 and 644
    under the usual 022, private under ``flowapp up``'s 077; submodules become empty
    folders. Symbolic
    links are created last and checked once all are in place (a link is only safe or not
    given the links it passes through), so on ``InvalidPath`` the folder is incomplete
    and the caller discards it.
    """
    _prepare(target)
    links: list[tuple[Path, bytes]] = []
    for relative, mode, sha in _entries(store, tree_id):
        path = target / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        if mode == _GITLINK:
            path.mkdir(exist_ok=True)
            continue
        data = _blob_data(store, sha)
        if mode == SYMLINK:
            links.append((path, data))
        else:
            _write_file(path, data, executable=bool(mode & 0o100))
    for path, link in links:
        os.symlink(os.fsdecode(link), path)
    _check_links(target, [path for path, _ in links])


def _write_file(path: Path, data: bytes, *, executable: bool) -> None:
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW
    with open(os.open(path, flags, 0o777 if executable else 0o666), "wb") as file:
        file.write(data)


def _prepare(target: Path) -> None:
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise GitRepoError(f"{target} exists and is not an empty folder")
    target.mkdir(parents=True, exist_ok=True)


def _entries(store: BaseObjectStore, tree_id: ObjectID) -> Iterator[tuple[str, int, ObjectID]]:
    for entry in iter_tree_contents(store, tree_id):
        path = os.fsdecode(entry.path)
        try:
            check_path(path)
        except InvalidPath as exc:
            raise InvalidPath(f"the commit cannot be checked out: {exc}") from None
        yield path, entry.mode, entry.sha


def _blob_data(store: BaseObjectStore, sha: ObjectID) -> bytes:
    blob = store[sha]
    if not isinstance(blob, Blob):
        raise GitRepoError(f"object {sha.decode()} is a {blob.type_name.decode()}, not a blob")
    return blob.as_raw_string()


def _check_links(target: Path, links: list[Path]) -> None:
    root = target.resolve()
    for link in links:
        resolved = Path(os.path.realpath(link))
        if resolved != root and root not in resolved.parents:
            relative = link.relative_to(target).as_posix()
            raise InvalidPath(f"the symbolic link `{relative}` points outside the project")


def read_directory(folder: Path) -> dict[str, File]:
    """Every file under ``folder`` (``.git`` folders left out), with executable bits and links.

    Anything that is neither a file, a folder nor a symbolic link (a socket, a FIFO) is
    refused: git cannot store it.
    """
    files: dict[str, File] = {}
    for directory, folders, names in os.walk(folder):
        folders[:] = sorted(name for name in folders if name != ".git")
        for name in (*names, *_linked_folders(directory, folders)):
            path = Path(directory, name)
            files[path.relative_to(folder).as_posix()] = _read_file(path)
    return files


def _linked_folders(directory: str, folders: list[str]) -> list[str]:
    # os.walk lists a link to a folder among the folders and does not follow it; git
    # stores the link itself, so it is taken out of the walk and read as a file.
    links = [name for name in folders if os.path.islink(os.path.join(directory, name))]
    folders[:] = [name for name in folders if name not in links]
    return links


def _read_file(path: Path) -> File:
    info = path.lstat()
    if stat.S_ISLNK(info.st_mode):
        return File(os.fsencode(os.readlink(path)), SYMLINK)
    if not stat.S_ISREG(info.st_mode):
        raise GitRepoError(f"{path} is not a regular file, folder or symbolic link")
    return File(path.read_bytes(), EXECUTABLE if info.st_mode & 0o100 else REGULAR)
