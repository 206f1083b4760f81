"""Which user an app's code runs as, and handing its folders over to that user.

Every app gets a user id of its own, ``base + crc32(app) % span`` (by default
1 800 000 000 to 1 800 065 535): no account needs to exist for it (the kernel only
compares numbers), it owns nothing outside the app's own function folders, and it is
stable across restarts so the folders it owns stay its own. Separate users per app make
the process limit (``RLIMIT_NPROC`` counts per user) a budget per app, and keep apps
apart by file permissions when the sandbox has to fall back to users alone.

Two apps may hash to one id (one chance in ~65 000 per pair); they then share a process
budget, and in the fallback mode each other's files. Only a token that may create apps
can name one, so an app-limited developer cannot aim at a collision. Pick another range
with ``--sandbox-uid-base`` if the default one is used on the host (container user
namespaces, ``subuid`` ranges).
"""

from __future__ import annotations

import os
import zlib
from dataclasses import dataclass
from pathlib import Path

DEFAULT_UID_BASE = 1_800_000_000
UID_SPAN = 65_536


@dataclass(frozen=True, slots=True)
class AppUser:
    uid: int
    gid: int


def app_user(app: str, *, base: int = DEFAULT_UID_BASE) -> AppUser:
    uid = base + zlib.crc32(app.encode()) % UID_SPAN
    return AppUser(uid, uid)


def hand_over(folder: Path, user: AppUser, *, again: bool = False) -> None:
    """Make ``folder`` and everything in it the user's, without following links (a
    link could point anywhere; the sandbox only ever sees the folder itself). Done once:
    a folder that is the user's already is left alone, unless ``again``."""
    if not again and _owned_by(folder, user):
        return
    # Bottom up, the folder itself last: it is the mark that the whole tree is done.
    for current, dirs, files in os.walk(folder, topdown=False):
        for name in (*dirs, *files):
            os.lchown(os.path.join(current, name), user.uid, user.gid)
        os.lchown(current, user.uid, user.gid)


def _owned_by(folder: Path, user: AppUser) -> bool:
    info = folder.lstat()
    return info.st_uid == user.uid and info.st_gid == user.gid
