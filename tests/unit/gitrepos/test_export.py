"""``export`` and ``read_directory``: a commit written to a folder and back, modes and all."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from dulwich.index import commit_tree
from dulwich.objects import Blob, Commit, ObjectID
from dulwich.repo import Repo

from flowapp.gitrepos import (
    EXECUTABLE,
    SYMLINK,
    File,
    GitRepoError,
    InvalidPath,
    Repositories,
    read_directory,
)

AUTHOR = "Ada <ada@example.com>"
BINARY = bytes(range(256)) * 64
FILES = {
    "flowapp.yaml": File(b"kind: FlowApp\n"),
    "functions/append/main.py": File(b"def handle(data, context):\n    return data\n"),
    "functions/append/assets/logo.png": File(BINARY),
    "scripts/deep/er/build.sh": File(b"#!/bin/sh\necho built\n", EXECUTABLE),
    "functions/display/shared": File(b"../append/assets", SYMLINK),
    "empty.txt": File(b""),
}


def mode_of(path: Path) -> int:
    return stat.S_IMODE(path.lstat().st_mode)


def test_export_writes_every_file_with_its_contents_and_mode(
    repos: Repositories, tmp_path: Path
) -> None:
    sha = repos.create("orders", FILES, message="one", author=AUTHOR)
    target = tmp_path / "build"

    repos.export("orders", sha, target)

    assert (target / "functions/append/assets/logo.png").read_bytes() == BINARY
    assert (target / "empty.txt").read_bytes() == b""
    assert mode_of(target / "scripts/deep/er/build.sh") == 0o755
    assert mode_of(target / "flowapp.yaml") == 0o644
    link = target / "functions/display/shared"
    assert link.is_symlink() and os.readlink(link) == "../append/assets"
    assert (link / "logo.png").read_bytes() == BINARY


def test_export_honours_a_private_umask(repos: Repositories, tmp_path: Path) -> None:
    sha = repos.create("orders", FILES, message="one", author=AUTHOR)
    previous = os.umask(0o077)
    try:
        repos.export("orders", sha, tmp_path / "build")
    finally:
        os.umask(previous)

    assert mode_of(tmp_path / "build/scripts/deep/er/build.sh") == 0o700
    assert mode_of(tmp_path / "build/flowapp.yaml") == 0o600


def test_export_then_read_directory_gives_back_the_files(
    repos: Repositories, tmp_path: Path
) -> None:
    sha = repos.create("orders", FILES, message="one", author=AUTHOR)
    repos.export("orders", sha, tmp_path / "build")

    assert read_directory(tmp_path / "build") == FILES


def test_export_of_an_older_commit(repos: Repositories, tmp_path: Path) -> None:
    first = repos.create("orders", {"v": b"1"}, message="one", author=AUTHOR)
    repos.commit_tree("orders", {"v": b"2"}, message="two", author=AUTHOR)

    repos.export("orders", first, tmp_path / "old")

    assert read_directory(tmp_path / "old") == {"v": File(b"1")}


def test_export_into_an_existing_empty_folder(repos: Repositories, tmp_path: Path) -> None:
    sha = repos.create("orders", {"v": b"1"}, message="one", author=AUTHOR)
    (tmp_path / "empty").mkdir()

    repos.export("orders", sha, tmp_path / "empty")

    assert (tmp_path / "empty/v").read_bytes() == b"1"


def test_export_refuses_a_folder_that_is_not_empty(repos: Repositories, tmp_path: Path) -> None:
    sha = repos.create("orders", {"v": b"1"}, message="one", author=AUTHOR)
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy/keep").write_text("mine")

    with pytest.raises(GitRepoError, match="not an empty folder"):
        repos.export("orders", sha, tmp_path / "busy")
    assert (tmp_path / "busy/keep").read_text() == "mine"


@pytest.mark.parametrize("commit", ["main", "abc", "0" * 40])
def test_export_needs_a_full_sha_of_a_commit_in_the_repository(
    repos: Repositories, tmp_path: Path, commit: str
) -> None:
    repos.create("orders", {"v": b"1"}, message="one", author=AUTHOR)

    with pytest.raises(GitRepoError, match=r"sha|not in the repository"):
        repos.export("orders", commit, tmp_path / "out")


@pytest.mark.parametrize(
    "target", ["/etc/passwd", "../../../x", "../../../functions/x", "../../loop/.."]
)
def test_export_refuses_symbolic_links_that_leave_the_project(
    repos: Repositories, tmp_path: Path, target: str
) -> None:
    # `loop` (the project itself) is fine, and makes `loop/..` the folder above it.
    files = {"loop": File(b".", SYMLINK), "functions/x/link": File(target.encode(), SYMLINK)}
    sha = repos.create("orders", files, message="one", author=AUTHOR)

    with pytest.raises(InvalidPath, match="`functions/x/link` points outside"):
        repos.export("orders", sha, tmp_path / "out")


def test_export_refuses_a_pushed_tree_with_a_dot_dot_entry(
    repos: Repositories, tmp_path: Path
) -> None:
    # Trees built here are checked; a pushed one is not, so it is built by hand.
    sha = repos.create("orders", {}, message="one", author=AUTHOR)
    with Repo(str(repos.path("orders"))) as repo:
        blob = Blob.from_string(b"owned")
        repo.object_store.add_object(blob)
        commit = Commit()
        commit.tree = commit_tree(repo.object_store, [(b"../escaped", blob.id, 0o100644)])
        commit.author = commit.committer = AUTHOR.encode()
        commit.author_time = commit.commit_time = 0
        commit.author_timezone = commit.commit_timezone = 0
        commit.message = b"evil\n"
        commit.parents = [ObjectID(sha.encode())]
        repo.object_store.add_object(commit)

    with pytest.raises(InvalidPath, match="cannot be checked out"):
        repos.export("orders", commit.id.decode(), tmp_path / "out" / "deeper")
    assert not (tmp_path / "out" / "escaped").exists()


def test_read_directory_leaves_out_git_folders_and_keeps_links_to_folders(
    tmp_path: Path,
) -> None:
    (tmp_path / ".git/objects").mkdir(parents=True)
    (tmp_path / ".git/HEAD").write_text("ref: refs/heads/main\n")
    (tmp_path / "lib").mkdir()
    (tmp_path / "lib/util.py").write_text("X = 1\n")
    (tmp_path / "alias").symlink_to("lib")

    assert read_directory(tmp_path) == {
        "alias": File(b"lib", SYMLINK),
        "lib/util.py": File(b"X = 1\n"),
    }


def test_read_directory_refuses_what_git_cannot_store(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe")

    with pytest.raises(GitRepoError, match="not a regular file"):
        read_directory(tmp_path)
