"""Fixtures for app repositories: ``repos`` in ``tmp_path``, and commits read back.

``read_commit(app, sha)`` gives a commit and its tree as ``path -> File``, read with
dulwich directly, so the tests do not trust the code under test to read what it wrote.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from dulwich.object_store import iter_tree_contents
from dulwich.objects import Blob, Commit, ObjectID
from dulwich.repo import Repo

from flowapp.gitrepos import File, Repositories

ReadCommit = Callable[[str, str], tuple[Commit, dict[str, File]]]


@pytest.fixture
def repos(tmp_path: Path) -> Repositories:
    return Repositories(tmp_path / "repos")


@pytest.fixture
def read_commit(repos: Repositories) -> ReadCommit:
    def read(app: str, sha: str) -> tuple[Commit, dict[str, File]]:
        with Repo(str(repos.path(app))) as repo:
            commit = repo[ObjectID(sha.encode())]
            assert isinstance(commit, Commit)
            files = {}
            for entry in iter_tree_contents(repo.object_store, commit.tree):
                blob = repo[entry.sha]
                assert isinstance(blob, Blob)
                files[entry.path.decode()] = File(blob.as_raw_string(), entry.mode)
        return commit, files

    return read
