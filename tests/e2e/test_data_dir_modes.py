"""`flowapp up` keeps its data directory private: 0700, files 0600, also files made later."""

from __future__ import annotations

import stat
from pathlib import Path

from tests.e2e.platform_process import ROOT, flowapp_up

EXAMPLE = ROOT / "examples" / "append-display"


def readable_by_others(root: Path) -> list[str]:
    """Entries under ``root`` (itself included) with any group or other permission."""
    found = []
    for path in [root, *root.rglob("*")]:
        info = path.lstat()
        if not stat.S_ISLNK(info.st_mode) and info.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
            found.append(f"{path.relative_to(root)} {stat.S_IMODE(info.st_mode):o}")
    return found


def test_the_data_directory_and_everything_in_it_stay_private(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    data.chmod(0o755)
    leftover = data / "cron-state.json"
    leftover.write_text("{}")
    leftover.chmod(0o644)

    with flowapp_up(data, "--app", str(EXAMPLE)) as platform, platform.client() as api:
        done = api.post("/api/v1/apps/append-display/executions?wait=30", json={"message": "x"})
        assert done.status_code == 200, done.text
        names = {path.name for path in data.rglob("*")}
        # The databases with their WAL files, the token, the bus, function logs, revisions.
        assert {"flowapp.db", "flowapp.db-wal", "admin-token", "bus.db", "append.log"} <= names
        assert readable_by_others(data) == [], "\n".join(readable_by_others(data))

    log = (tmp_path / "data-up.log").read_text()
    assert "had 2 entries readable by other users" in log
    assert "cron-state.json (644)" in log
