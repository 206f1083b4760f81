"""The data directory is made private at start-up, whatever state it was left in."""

from __future__ import annotations

import stat
from pathlib import Path

from flowapp.local.datadir import secure_data_dir


def mode(path: Path) -> int:
    return stat.S_IMODE(path.lstat().st_mode)


def test_a_new_data_directory_is_created_0700(tmp_path: Path) -> None:
    data = tmp_path / "a" / "data"
    report = secure_data_dir(data)
    assert mode(data) == 0o700
    assert report.warning() is None


def test_readable_entries_are_made_private_and_named_in_the_warning(tmp_path: Path) -> None:
    data = tmp_path / "data"
    (data / "logs").mkdir(parents=True)
    data.chmod(0o755)
    (data / "logs").chmod(0o775)
    token = data / "admin-token"
    token.write_text("secret\n")
    token.chmod(0o644)
    hook = data / "logs" / "run.sh"
    hook.write_text("#!/bin/sh\n")
    hook.chmod(0o755)
    private = data / "flowapp.db"
    private.write_text("")
    private.chmod(0o600)

    report = secure_data_dir(data)

    assert (mode(data), mode(data / "logs")) == (0o700, 0o700)
    assert (mode(token), mode(hook), mode(private)) == (0o600, 0o700, 0o600)
    warning = report.warning()
    assert warning is not None
    assert "4 entries readable by other users" in warning
    assert "admin-token (644)" in warning and ". (755)" in warning
    assert "flowapp.db" not in warning  # already private: not touched
    assert secure_data_dir(data).warning() is None


def test_a_linked_project_folder_is_left_alone(tmp_path: Path) -> None:
    project = tmp_path / "project"
    project.mkdir()
    (project / "flowapp.yaml").write_text("kind: FlowApp\n")
    (project / "flowapp.yaml").chmod(0o644)
    data = tmp_path / "data"
    (data / "revisions").mkdir(parents=True)
    (data / "revisions" / "dev-1").symlink_to(project, target_is_directory=True)

    secure_data_dir(data)

    assert mode(project / "flowapp.yaml") == 0o644
