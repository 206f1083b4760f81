"""The data directory is the server's alone: 0700, and what is in it 0600.

It holds the admin token, the databases (with their WAL and SHM files), the event bus,
function logs, git repositories and revisions. ``flowapp up`` sets its process umask to
077 (:data:`PRIVATE_UMASK`) before anything is created, so every file made later (a new
log, a WAL file, a revision) is private too; :func:`secure_data_dir` creates the folder
0700 and takes group and other permissions away from whatever an earlier version, a
restore from backup or a hand edit left readable, and says what it changed.

Function folders that the sandbox hands over to an app's own user keep their owner
(``flowapp.sandbox``); their mode bits are private as well.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

PRIVATE_UMASK = 0o077
_OPEN_BITS = stat.S_IRWXG | stat.S_IRWXO
# A folder others may only traverse (0711) lists nothing and opens nothing by itself: the
# sandbox's fallback opens the way to function folders so (``flowapp.sandbox``).
_TRAVERSE_BITS = stat.S_IXGRP | stat.S_IXOTH


@dataclass
class Tightened:
    """What :func:`secure_data_dir` changed (paths relative to the data directory)."""

    root: Path
    fixed: list[tuple[str, int]] = field(default_factory=list)  # path, mode it had

    def warning(self, *, shown: int = 5) -> str | None:
        if not self.fixed:
            return None
        examples = ", ".join(f"{path} ({mode:o})" for path, mode in self.fixed[:shown])
        more = f" and {len(self.fixed) - shown} more" if len(self.fixed) > shown else ""
        return (
            f"the data directory {self.root} had {len(self.fixed)} entries readable by "
            f"other users: {examples}{more}; they are now private (0700 folders, 0600 files)"
        )


def secure_data_dir(root: Path) -> Tightened:
    """Create ``root`` (0700) or make it and everything under it private.

    Symbolic links are not followed (``flowapp dev`` links a project folder in as a
    revision: that folder belongs to its user, not to the data directory).
    """
    root.mkdir(mode=0o700, parents=True, exist_ok=True)
    report = Tightened(root)
    _tighten(root, ".", report)
    for folder, dirs, files in os.walk(root):
        base = Path(folder)
        for name in (*dirs, *files):
            path = base / name
            _tighten(path, path.relative_to(root).as_posix(), report)
    return report


def _tighten(path: Path, shown: str, report: Tightened) -> None:
    try:
        mode = path.lstat().st_mode
    except FileNotFoundError:  # removed while we walked (a finished build, a rotated log)
        return
    if stat.S_ISLNK(mode) or not mode & _OPEN_BITS:
        return
    if stat.S_ISDIR(mode) and not mode & _OPEN_BITS & ~_TRAVERSE_BITS:
        return
    os.chmod(path, stat.S_IMODE(mode) & ~_OPEN_BITS)
    report.fixed.append((shown, stat.S_IMODE(mode)))
