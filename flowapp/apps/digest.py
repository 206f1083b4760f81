"""The digest of a FlowApp: one sha256 over everything a revision is made of.

Inputs, in a fixed order: the resource and the workflow as canonical JSON (sorted keys,
so reformatting the YAML or reordering keys does not change it), then for each function
(sorted by name) every file of its folder, sorted by relative POSIX path, as path and
bytes. Each piece is length-prefixed, so moving bytes from one piece to the next cannot
produce the same digest.

What a build or a tool writes next to the code is not part of a revision and is skipped:
virtualenvs, ``node_modules``, bytecode caches, VCS and tool caches.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from hashlib import _Hash

IGNORED_DIRECTORIES = frozenset(
    {".venv", "node_modules", "__pycache__", ".git", ".pytest_cache", ".mypy_cache", ".ruff_cache"}
)


def app_digest(
    resource: Mapping[str, Any], workflow: Mapping[str, Any], folders: Mapping[str, Path]
) -> str:
    """``sha256:<hex>`` of the resource, the workflow and every function folder."""
    sha = hashlib.sha256()
    _piece(sha, _canonical(resource))
    _piece(sha, _canonical(workflow))
    for name in sorted(folders):
        _piece(sha, name.encode())
        for relative, path in folder_files(folders[name]):
            _piece(sha, relative.encode())
            _piece(sha, path.read_bytes())
    return f"sha256:{sha.hexdigest()}"


def folder_files(folder: Path) -> list[tuple[str, Path]]:
    """Every file under ``folder`` that belongs to a revision, sorted by relative path."""
    return sorted(_walk(folder), key=lambda item: item[0])


def _walk(folder: Path) -> Iterator[tuple[str, Path]]:
    for root, directories, files in os.walk(folder):
        # Pruning in place stops os.walk from descending into build output at all.
        directories[:] = [d for d in directories if d not in IGNORED_DIRECTORIES]
        for file in files:
            path = Path(root, file)
            if path.is_file():  # a dangling symlink is not content
                yield path.relative_to(folder).as_posix(), path


def _canonical(value: Mapping[str, Any]) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def _piece(sha: _Hash, data: bytes) -> None:
    sha.update(len(data).to_bytes(8, "big"))
    sha.update(data)
