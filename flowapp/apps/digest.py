"""The digest of a FlowApp: one sha256 over everything a revision is made of.

Inputs, in a fixed order: the resource and the workflow as canonical JSON (sorted keys,
so reformatting the YAML or reordering keys does not change it), then for each function
(sorted by name) every file of its folder, sorted by relative POSIX path, as path and
bytes. Each piece is length-prefixed, so moving bytes from one piece to the next cannot
produce the same digest.

What a build or a tool writes next to the code is not part of a revision and is skipped
(``project.IGNORED_DIRECTORIES``: virtualenvs, ``node_modules``, bytecode caches, VCS and
tool caches), and so is a file whose symbolic link leads outside the project.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from hashlib import _Hash

Folder = Iterable[tuple[str, bytes]]
"""A function folder's files, sorted by relative path (``ProjectFiles.files_under``)."""


def app_digest(
    resource: Mapping[str, Any], workflow: Mapping[str, Any], folders: Mapping[str, Folder]
) -> str:
    """``sha256:<hex>`` of the resource, the workflow and every function folder."""
    sha = hashlib.sha256()
    _piece(sha, _canonical(resource))
    _piece(sha, _canonical(workflow))
    for name in sorted(folders):
        _piece(sha, name.encode())
        for relative, data in folders[name]:
            _piece(sha, relative.encode())
            _piece(sha, data)
    return f"sha256:{sha.hexdigest()}"


def _canonical(value: Mapping[str, Any]) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def _piece(sha: _Hash, data: bytes) -> None:
    sha.update(len(data).to_bytes(8, "big"))
    sha.update(data)
