"""What the sandbox's tests need: root (for a user per app) and a working bubblewrap."""

from __future__ import annotations

import os
import shutil

from tests.servers import unavailable


def require_root_and_bwrap() -> None:
    """Skip (fail under CI, which runs as root with bubblewrap installed) unless both."""
    if os.geteuid() != 0:
        unavailable("the sandbox's tests run as root (a user of its own per app)")
    if shutil.which("bwrap") is None:
        unavailable("bubblewrap is not installed (Debian: apt-get install bubblewrap)")
