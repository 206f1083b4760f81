"""An uploaded archive is read as a project only if every member can be a file of one:
each refusal names the member, and nothing of a refused archive is kept."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

import pytest

from flowapp.apps.sources import BadArchive, pack_folder, unpack_archive, write_tree

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "append-display"


def archive(*members: tuple[str, bytes | None, bytes]) -> bytes:
    """A gzipped tar of ``(name, type, content)``; ``type`` None is a regular file."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, kind, content in members:
            info = tarfile.TarInfo(name)
            if kind is not None:
                info.type = kind
                info.linkname = content.decode()
                tar.addfile(info)
            else:
                info.size = len(content)
                tar.addfile(info, io.BytesIO(content))
    return buffer.getvalue()


FLOWAPP = ("flowapp.yaml", None, b"kind: FlowApp\n")


@pytest.mark.parametrize(
    ("member", "says"),
    [
        ((".GIT/config", None, b"[core]\n"), "cannot contain `.git`"),
        ((".git/config", None, b"[core]\n"), "cannot contain `.git`"),
        (("functions/.Git/hooks/post-checkout", None, b"#!/bin/sh\n"), "cannot contain `.git`"),
        (("/etc/cron.d/x", None, b"* * * * * root sh\n"), "outside the project folder"),
        (("../../x", None, b""), "outside the project folder"),
        (("functions/../../x", None, b""), "outside the project folder"),
        (("link", tarfile.SYMTYPE, b"/data/admin-token"), "is a symbolic link"),
        (("hard", tarfile.LNKTYPE, b"flowapp.yaml"), "is a hard link"),
        (("dev", tarfile.CHRTYPE, b""), "is a character device"),
        (("blk", tarfile.BLKTYPE, b""), "is a block device"),
        (("fifo", tarfile.FIFOTYPE, b""), "is a FIFO"),
    ],
)
def test_a_member_no_project_may_hold_is_refused_by_name(
    member: tuple[str, bytes | None, bytes], says: str
) -> None:
    with pytest.raises(BadArchive) as refused:
        unpack_archive(archive(FLOWAPP, member))
    assert says in str(refused.value)
    assert refused.value.member == member[0]


def test_a_file_that_is_also_a_folder_is_refused() -> None:
    with pytest.raises(BadArchive) as refused:
        unpack_archive(archive(FLOWAPP, ("a", None, b"1"), ("a/b", None, b"2")))
    assert "both a file and a folder" in str(refused.value)


def test_a_project_packed_by_flowapp_deploy_unpacks_whole() -> None:
    files = unpack_archive(pack_folder(EXAMPLE))
    assert "flowapp.yaml" in files and "functions/append/main.py" in files


def test_build_folders_are_left_out_and_dot_slash_names_are_normal() -> None:
    files = unpack_archive(
        archive(("./flowapp.yaml", None, b"x"), ("./functions/a/__pycache__/m.pyc", None, b""))
    )
    assert files == {"flowapp.yaml": b"x"}


def test_not_a_tar_is_unreadable_without_a_member() -> None:
    with pytest.raises(BadArchive) as refused:
        unpack_archive(b"\x1f\x8b" + b"\0" * 64)
    assert refused.value.member is None


def test_writing_files_refuses_a_name_outside_the_folder(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="outside the project folder"):
        write_tree({"ok.txt": b"", "../escaped.txt": b"x"}, tmp_path / "project")
    assert not (tmp_path / "escaped.txt").exists()
    assert not (tmp_path / "project" / "ok.txt").exists()  # checked before anything is written


def test_an_archive_with_more_files_than_the_limit_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("flowapp.apps.sources.MAX_FILES", 3)
    files = [(f"f{n}.txt", None, b"x") for n in range(4)]
    with pytest.raises(BadArchive, match="more than 3 files"):
        unpack_archive(archive(FLOWAPP, *files[:3]))
    assert len(unpack_archive(archive(*files[:3]))) == 3


def test_an_archive_that_unpacks_past_the_size_limit_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("flowapp.apps.sources.MAX_UNPACKED", 1000)
    with pytest.raises(BadArchive, match="unpacks to more than"):
        unpack_archive(archive(FLOWAPP, ("big.bin", None, b"0" * 1000)))


def test_a_folder_is_sent_as_git_would_commit_it(tmp_path: Path) -> None:
    """``.gitignore`` files are honoured at every depth; local state, environments and
    caches are never sent, even when a ``.gitignore`` says to keep them."""
    write_tree(
        {
            "flowapp.yaml": b"kind: FlowApp\n",
            ".gitignore": b"*.log\nsecrets/\n!.flowapp/\n",
            "functions/a/main.py": b"def handle(d, c): return d\n",
            "functions/a/.gitignore": b"scratch.txt\n",
            "functions/a/scratch.txt": b"notes",
            "functions/a/debug.log": b"noise",
            "secrets/key.pem": b"-----",
            ".flowapp/admin-token": b"fa_secret",
            ".flowapp/flowapp.db": b"SQLite",
            ".venv/lib/x.py": b"",
            "functions/b/node_modules/m/index.js": b"",
            "functions/a/__pycache__/main.cpython-311.pyc": b"",
            "keep.log.txt": b"kept",
        },
        tmp_path,
    )
    sent = unpack_archive(pack_folder(tmp_path))
    assert set(sent) == {
        "flowapp.yaml",
        ".gitignore",
        "functions/a/main.py",
        "functions/a/.gitignore",
        "keep.log.txt",
    }
