"""``Repositories``: create, commit a whole tree, heads, list and delete, and refusals."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from dulwich.refs import Ref
from dulwich.repo import Repo

import flowapp.gitrepos.repos as repos_module
from flowapp.gitrepos import (
    EXECUTABLE,
    BranchMoved,
    File,
    GitRepoError,
    InvalidPath,
    Repositories,
    RepositoryExists,
    RepositoryNotFound,
)
from tests.unit.gitrepos.conftest import ReadCommit

AUTHOR = "Ada <ada@example.com>"
PROJECT: dict[str, bytes | File] = {
    "flowapp.yaml": b"kind: FlowApp\n",
    "functions/append/main.py": b"def handle(data, context):\n    return data\n",
    "bin/run.sh": File(b"#!/bin/sh\nexec true\n", EXECUTABLE),
}


def test_create_makes_a_bare_repository_whose_main_holds_the_files(
    repos: Repositories, read_commit: ReadCommit
) -> None:
    sha = repos.create("orders", PROJECT, message="Create orders", author=AUTHOR)

    commit, files = read_commit("orders", sha)
    assert files == {
        "flowapp.yaml": File(b"kind: FlowApp\n"),
        "functions/append/main.py": File(b"def handle(data, context):\n    return data\n"),
        "bin/run.sh": PROJECT["bin/run.sh"],
    }
    assert commit.parents == []
    assert commit.author == commit.committer == AUTHOR.encode()
    assert commit.message == b"Create orders\n"
    assert repos.head("orders") == sha
    with Repo(str(repos.path("orders"))) as repo:
        assert repo.bare
        assert repo.refs.get_symrefs()[Ref(b"HEAD")] == b"refs/heads/main"


def test_create_refuses_an_existing_app_and_leaves_it_alone(repos: Repositories) -> None:
    sha = repos.create("orders", PROJECT, message="one", author=AUTHOR)

    with pytest.raises(RepositoryExists, match="orders"):
        repos.create("orders", {"x": b"y"}, message="two", author=AUTHOR)

    assert repos.head("orders") == sha
    assert [p.name for p in repos.root.iterdir()] == ["orders.git"]  # no staging left over


def test_an_empty_project_is_a_commit_with_an_empty_tree(
    repos: Repositories, read_commit: ReadCommit
) -> None:
    sha = repos.create("empty", {}, message="nothing yet", author=AUTHOR)

    assert read_commit("empty", sha)[1] == {}


def test_commit_tree_replaces_the_whole_tree_on_top_of_the_head(
    repos: Repositories, read_commit: ReadCommit
) -> None:
    first = repos.create("orders", PROJECT, message="one", author=AUTHOR)
    upload = {"flowapp.yaml": b"kind: FlowApp\n# v2\n", "functions/display/index.js": b"x"}

    second = repos.commit_tree("orders", upload, message="Upload", author=AUTHOR)

    commit, files = read_commit("orders", second)
    assert commit.parents == [first.encode()]
    assert files == {path: File(data) for path, data in upload.items()}
    assert repos.head("orders") == second


def test_commit_tree_commits_even_when_nothing_changed(repos: Repositories) -> None:
    first = repos.create("orders", PROJECT, message="one", author=AUTHOR)

    second = repos.commit_tree("orders", PROJECT, message="same again", author=AUTHOR)

    assert second != first
    assert repos.head("orders") == second


def test_commit_tree_starts_a_new_branch_with_a_root_commit(
    repos: Repositories, read_commit: ReadCommit
) -> None:
    main = repos.create("orders", PROJECT, message="one", author=AUTHOR)

    sha = repos.commit_tree("orders", {"a": b"1"}, message="draft", author=AUTHOR, branch="draft")

    assert read_commit("orders", sha)[0].parents == []
    assert repos.head("orders", "draft") == sha
    assert repos.head("orders") == main


def test_commit_tree_fails_when_the_branch_moves_meanwhile(
    repos: Repositories, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = repos.create("orders", PROJECT, message="one", author=AUTHOR)
    pushed = repos.commit_tree("orders", {"a": b"pushed"}, message="push", author=AUTHOR)
    # The upload read the head before the push landed.
    monkeypatch.setattr(repos_module, "_branch_head", lambda repo, ref: first.encode())

    with pytest.raises(BranchMoved, match="main"):
        repos.commit_tree("orders", {"a": b"upload"}, message="upload", author=AUTHOR)

    monkeypatch.undo()
    assert repos.head("orders") == pushed


def test_head_of_a_missing_branch_is_none(repos: Repositories) -> None:
    repos.create("orders", PROJECT, message="one", author=AUTHOR)

    assert repos.head("orders", "nope") is None


def test_list_exists_and_delete(repos: Repositories) -> None:
    assert repos.list() == []
    for app in ("b-app", "a-app"):
        repos.create(app, {}, message="x", author=AUTHOR)

    assert repos.list() == ["a-app", "b-app"]
    assert repos.exists("a-app") and not repos.exists("c-app") and not repos.exists("../x")

    repos.delete("a-app")

    assert repos.list() == ["b-app"]
    assert not repos.exists("a-app")
    assert sorted(p.name for p in repos.root.iterdir()) == ["b-app.git"]
    with pytest.raises(RepositoryNotFound):
        repos.delete("a-app")


@pytest.mark.parametrize("operation", ["head", "commit_tree", "export"])
def test_operations_on_a_missing_app_raise_not_found(
    repos: Repositories, operation: str, tmp_path: Path
) -> None:
    calls: dict[str, Callable[[], object]] = {
        "head": lambda: repos.head("ghost"),
        "commit_tree": lambda: repos.commit_tree("ghost", {}, message="m", author=AUTHOR),
        "export": lambda: repos.export("ghost", "0" * 40, tmp_path / "out"),
    }
    with pytest.raises(RepositoryNotFound, match="ghost"):
        calls[operation]()


@pytest.mark.parametrize("app", ["../etc", "Orders", "a/b", "", "x" * 64, "-x"])
def test_names_that_are_not_apps_are_refused(repos: Repositories, app: str) -> None:
    with pytest.raises(GitRepoError, match="not an app name"):
        repos.create(app, {}, message="x", author=AUTHOR)
    with pytest.raises(RepositoryNotFound):
        repos.head(app)


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        ("../evil", "not a relative path"),
        ("/etc/passwd", "not a relative path"),
        ("a//b", "not a relative path"),
        ("a/./b", "not a relative path"),
        (".git/config", "cannot contain `.git`"),
        ("sub/.GIT/hooks/post-update", "cannot contain `.git`"),
    ],
)
def test_paths_that_git_refuses_are_refused(repos: Repositories, path: str, reason: str) -> None:
    with pytest.raises(InvalidPath, match=reason):
        repos.create("orders", {path: b"x"}, message="x", author=AUTHOR)
    assert not repos.exists("orders")


def test_a_path_cannot_be_both_file_and_folder(repos: Repositories) -> None:
    files = {"lib": b"file", "lib-x": b"", "lib/util.py": b"folder"}
    with pytest.raises(InvalidPath, match="`lib` is both a file and a folder"):
        repos.create("orders", files, message="x", author=AUTHOR)


@pytest.mark.parametrize("author", ["ada", "Ada <ada@example.com", "Ada\n <a@b>"])
def test_authors_must_be_name_and_email(repos: Repositories, author: str) -> None:
    with pytest.raises(GitRepoError, match="Name <email>"):
        repos.create("orders", {}, message="x", author=author)


def test_branch_names_are_checked(repos: Repositories) -> None:
    repos.create("orders", {}, message="x", author=AUTHOR)
    with pytest.raises(GitRepoError, match="not a valid branch name"):
        repos.commit_tree("orders", {}, message="x", author=AUTHOR, branch="a..b")


def test_file_modes_other_than_git_file_modes_are_refused() -> None:
    with pytest.raises(ValueError, match="755"):
        File(b"", 0o755)
