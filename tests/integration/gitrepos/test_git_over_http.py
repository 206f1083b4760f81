"""The real git client against ``git_http_app``: clone, edit, push, fetch, and refusals."""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from flowapp.gitrepos import read_directory
from tests.integration.gitrepos.conftest import Git, GitServer, StartServer

AUTHOR = "Ada <ada@example.com>"
WORKFLOW = {
    "document": {"dsl": "1.0.3", "namespace": "shop", "name": "orders", "version": "1.0.0"},
    "do": [{"append": {"call": "append"}}, {"display": {"call": "display"}}],
}
EDITED = "def handle(data, context):\n    return {**data, 'edited': True}\n"


def commit_all(git: Git, work: Path, message: str) -> str:
    git("add", "--all", cwd=work)
    git("commit", "-q", "-m", message, cwd=work)
    return git("rev-parse", "HEAD", cwd=work).stdout.strip()


def test_clone_edit_push_notifies_and_moves_main(
    server: GitServer, git: Git, tmp_path: Path
) -> None:
    first = server.repos.scaffold("orders", workflow=WORKFLOW)
    work = tmp_path / "work"

    git("clone", "-q", server.url("orders"), str(work))
    assert (work / "functions/display/main.py").is_file()
    assert os.access(work / ".ci/test.sh", os.X_OK)
    (work / "functions/append/main.py").write_text(EDITED)
    new = commit_all(git, work, "Append marks data as edited")
    git("push", "-q", "origin", "main", cwd=work)

    assert server.pushes == [("orders", first, new)]
    assert server.repos.head("orders") == new
    server.repos.export("orders", new, tmp_path / "build")
    assert (tmp_path / "build/functions/append/main.py").read_text() == EDITED
    git("--git-dir", str(server.repos.path("orders")), "fsck", "--strict")


def test_several_commits_in_one_push_and_a_new_branch(
    server: GitServer, git: Git, tmp_path: Path
) -> None:
    first = server.repos.create("orders", {"v": b"0"}, message="one", author=AUTHOR)
    work = tmp_path / "work"
    git("clone", "-q", server.url("orders"), str(work))
    for version in range(1, 4):
        (work / "v").write_text(str(version))
        last = commit_all(git, work, f"version {version}")

    git("push", "-q", "origin", "main", cwd=work)
    (work / "draft").write_text("wip")
    draft = commit_all(git, work, "draft")
    git("push", "-q", "origin", "HEAD:refs/heads/feature", cwd=work)

    assert server.pushes == [("orders", first, last)]  # only main deploys
    assert server.repos.head("orders") == last
    assert server.repos.head("orders", "feature") == draft


def test_wrong_credentials_are_refused_and_right_ones_accepted(
    server: GitServer, git: Git, tmp_path: Path
) -> None:
    first = server.repos.create("orders", {"v": b"0"}, message="one", author=AUTHOR)
    work = tmp_path / "work"
    git("clone", "-q", server.url("orders"), str(work))
    (work / "v").write_text("1")
    new = commit_all(git, work, "one more")

    wrong = git("push", server.url("orders", password="guess"), "main", cwd=work, check=False)
    missing = git("push", server.url("orders", password=None), "main", cwd=work, check=False)

    assert wrong.returncode != 0 and "Authentication failed" in wrong.stderr
    assert missing.returncode != 0 and "could not read Username" in missing.stderr
    assert server.repos.head("orders") == first and server.pushes == []
    git("push", "-q", server.url("orders"), "main", cwd=work)
    assert server.repos.head("orders") == new


def test_fetch_after_server_side_commits_with_a_gzip_request(
    server: GitServer, git: Git, tmp_path: Path
) -> None:
    server.repos.create("orders", {"v": b"0"}, message="one", author=AUTHOR)
    work = tmp_path / "work"
    git("clone", "-q", server.url("orders"), str(work))
    upload = {"v": b"1", "functions/new/main.py": b"print('uploaded')\n"}
    uploaded = server.repos.commit_tree("orders", upload, message="Upload", author=AUTHOR)
    # A "want" line per new branch: enough of them that git compresses the request.
    for number in range(30):
        draft = {"v": str(number).encode()}
        server.repos.commit_tree("orders", draft, message="d", author=AUTHOR, branch=f"d{number}")

    git("fetch", "-q", "origin", cwd=work)

    assert git("rev-parse", "origin/main", cwd=work).stdout.strip() == uploaded
    shown = git("show", "origin/main:functions/new/main.py", cwd=work).stdout
    assert shown == "print('uploaded')\n"
    assert "gzip" in server.encodings
    assert git("show", "origin/d29:v", cwd=work).stdout == "29"


def test_cloning_an_unknown_repository_is_not_found(
    server: GitServer, git: Git, tmp_path: Path
) -> None:
    done = git("clone", server.url("ghost"), str(tmp_path / "ghost"), check=False)

    assert done.returncode != 0
    assert "not found" in done.stderr


def test_a_large_push_and_a_large_clone(server: GitServer, git: Git, tmp_path: Path) -> None:
    server.repos.create("media", {"README.md": b"# media\n"}, message="one", author=AUTHOR)
    work = tmp_path / "work"
    git("clone", "-q", server.url("media"), str(work))
    (work / "assets").mkdir()
    for number in range(4):
        (work / f"assets/blob{number}.bin").write_bytes(os.urandom(1 << 20))
    new = commit_all(git, work, "Four megabytes of assets")

    git("push", "-q", "origin", "main", cwd=work)
    git("clone", "-q", server.url("media"), str(tmp_path / "again"))

    assert server.repos.head("media") == new
    assert read_directory(tmp_path / "again") == read_directory(work)


@pytest.mark.parametrize("version", ["0", "1", "2"])
def test_every_protocol_version_a_client_asks_for_works(
    server: GitServer, git: Git, tmp_path: Path, version: str
) -> None:
    # dulwich serves v0/v1; a v2 request falls back to v0, as with `git http-backend`
    # when the server does not pass GIT_PROTOCOL on.
    server.repos.create("orders", {"v": b"0"}, message="one", author=AUTHOR)

    git("-c", f"protocol.version={version}", "clone", "-q", server.url("orders"), "copy")

    assert (tmp_path / "copy/v").read_text() == "0"


def test_deleting_main_is_refused(server: GitServer, git: Git, tmp_path: Path) -> None:
    first = server.repos.create("orders", {"v": b"0"}, message="one", author=AUTHOR)
    git("clone", "-q", server.url("orders"), str(tmp_path / "work"))

    done = git("push", "origin", ":main", cwd=tmp_path / "work", check=False)

    assert done.returncode != 0
    assert "refusing to delete main" in done.stderr
    assert server.repos.head("orders") == first


def test_an_open_server_needs_no_credentials(
    start_server: StartServer, git: Git, tmp_path: Path
) -> None:
    server = start_server(authenticate=None)
    server.repos.create("orders", {"v": b"0"}, message="one", author=AUTHOR)
    work = tmp_path / "work"

    git("clone", "-q", server.url("orders", password=None), str(work))
    (work / "v").write_text("1")
    new = commit_all(git, work, "anonymous change")
    git("push", "-q", "origin", "main", cwd=work)

    assert server.repos.head("orders") == new


def test_a_failing_on_push_is_logged_and_the_push_still_succeeds(
    start_server: StartServer, git: Git, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async def broken(app: str, old: str, new: str) -> None:
        raise RuntimeError("deployer down")

    server = start_server(on_push=broken)
    server.repos.create("orders", {"v": b"0"}, message="one", author=AUTHOR)
    work = tmp_path / "work"
    git("clone", "-q", server.url("orders"), str(work))
    (work / "v").write_text("1")
    new = commit_all(git, work, "change")

    done = git("push", "origin", "main", cwd=work)

    assert "deployer down" not in done.stderr
    assert server.repos.head("orders") == new
    assert "on_push(orders" in caplog.text and "deployer down" in caplog.text
    caplog.clear()


def test_a_force_push_to_main_is_accepted_and_notified(
    server: GitServer, git: Git, tmp_path: Path
) -> None:
    first = server.repos.create("orders", {"v": b"0"}, message="one", author=AUTHOR)
    pushed = server.repos.commit_tree("orders", {"v": b"1"}, message="two", author=AUTHOR)
    work = tmp_path / "work"
    git("clone", "-q", server.url("orders"), str(work))
    git("reset", "-q", "--hard", first, cwd=work)
    (work / "v").write_text("rewritten")
    rewritten = commit_all(git, work, "rewrite history")

    git("push", "-q", "--force", "origin", "main", cwd=work)

    assert server.pushes == [("orders", pushed, rewritten)]
    assert server.repos.head("orders") == rewritten


def test_a_push_over_the_size_limit_fails_with_the_reason(
    start_server: StartServer, git: Git, tmp_path: Path
) -> None:
    server = start_server(max_body_bytes=256 * 1024)
    first = server.repos.create("orders", {"v": b"0"}, message="one", author=AUTHOR)
    work = tmp_path / "work"
    git("clone", "-q", server.url("orders"), str(work))
    (work / "big.bin").write_bytes(os.urandom(1 << 20))
    commit_all(git, work, "too big")

    done = git("push", "origin", "main", cwd=work, check=False)

    assert done.returncode != 0
    assert "larger than 262144 bytes" in done.stderr
    assert server.repos.head("orders") == first and server.pushes == []


def test_concurrent_clones_each_get_the_whole_repository(
    server: GitServer, git: Git, tmp_path: Path
) -> None:
    files = {f"assets/{n}.bin": os.urandom(256 * 1024) for n in range(4)}
    server.repos.create("media", files, message="assets", author=AUTHOR)

    with ThreadPoolExecutor(max_workers=8) as pool:
        clones = [tmp_path / f"clone{n}" for n in range(8)]
        list(pool.map(lambda clone: git("clone", "-q", server.url("media"), str(clone)), clones))

    for clone in clones:
        assert {path: file.data for path, file in read_directory(clone).items()} == files


def test_a_push_the_check_refuses_prints_every_problem_and_leaves_main(
    start_server: StartServer, git: Git, tmp_path: Path
) -> None:
    def check(app: str, commit: str) -> list[str]:
        folder = tmp_path / f"check-{commit}"
        server.repos.export(app, commit, folder)
        if (folder / "v").read_text() != "bad":
            return []
        return ["flowapp.yaml:3:5: /spec/functions: one", "workflow.yaml:8:24: /do/0/a: two"]

    server = start_server(check_push=check)
    first = server.repos.create("orders", {"v": b"0"}, message="one", author=AUTHOR)
    work = tmp_path / "work"
    git("clone", "-q", server.url("orders"), str(work))
    (work / "v").write_text("bad")
    commit_all(git, work, "broken")

    refused = git("push", "origin", "main", cwd=work, check=False)

    assert refused.returncode != 0
    assert "remote: flowapp.yaml:3:5: /spec/functions: one" in refused.stderr
    assert "remote: workflow.yaml:8:24: /do/0/a: two" in refused.stderr
    reason = "the project cannot be deployed: 2 problems, listed above"
    assert f"[remote rejected] main -> main ({reason})" in refused.stderr
    assert server.repos.head("orders") == first and server.pushes == []

    (work / "v").write_text("good")
    fixed = commit_all(git, work, "fixed")
    git("push", "-q", "origin", "main", cwd=work)
    assert server.repos.head("orders") == fixed
    assert server.pushes == [("orders", first, fixed)]
