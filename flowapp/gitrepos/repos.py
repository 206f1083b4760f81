"""``Repositories``: one bare git repository per app, under one root folder.

``root/<app>.git`` holds the app's project. Its ``main`` branch is what gets deployed:
the platform creates the repository when an app is created (``scaffold`` from a drawn
workflow, or ``create`` from given files), a source upload becomes the next commit
(``commit_tree``), a developer pushes over HTTP (``flowapp.gitrepos.http``), and a deploy
builds from a commit written out to a folder (``export``).

Every method blocks (file system and dulwich): callers on an event loop run them in a
thread. Creating and deleting are atomic renames, so a concurrent clone sees a complete
repository or none; a branch moves only from the head a commit was built on (compare and
swap), so a commit made while a push lands fails with ``BranchMoved`` instead of
silently dropping the push.
"""

from __future__ import annotations

import errno
import os
import re
import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

from dulwich import object_store
from dulwich.errors import NotGitRepository
from dulwich.objects import Commit, ObjectID
from dulwich.refs import Ref, check_ref_format
from dulwich.repo import Repo

from flowapp.apps.names import DNS_LABEL
from flowapp.gitrepos.errors import (
    BranchMoved,
    GitRepoError,
    RepositoryExists,
    RepositoryNotFound,
)
from flowapp.gitrepos.project import project_files
from flowapp.gitrepos.trees import Files, store_files, write_tree

DEFAULT_BRANCH = "main"
SCAFFOLD_AUTHOR = "flowapp <flowapp@localhost>"
_AUTHOR = re.compile(r"[^<>\n]+ <[^<>\n]*>")
_SHA = re.compile(r"[0-9a-f]{40}")

# dulwich makes pack files 0444 whatever the umask; they hold every app's source, so
# only the server may read them (the repositories live in its private data directory).
object_store.PACK_MODE = 0o400


class Repositories:
    """The bare repositories of all apps, ``root/<app>.git``; app names are DNS labels."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def path(self, app: str) -> Path:
        """Where the app's repository is (or would be); refuses names that are not apps."""
        if not DNS_LABEL.fullmatch(app):
            raise GitRepoError(f"`{app}` is not an app name (a DNS-1123 label)")
        return self.root / f"{app}.git"

    def exists(self, app: str) -> bool:
        return DNS_LABEL.fullmatch(app) is not None and self.path(app).is_dir()

    def list(self) -> list[str]:
        """The apps that have a repository, sorted."""
        if not self.root.is_dir():
            return []
        names = (entry.name.removesuffix(".git") for entry in self.root.glob("*.git"))
        return sorted(name for name in names if DNS_LABEL.fullmatch(name))

    @contextmanager
    def open(self, app: str) -> Iterator[Repo]:
        """The app's dulwich ``Repo``, closed on exit; ``RepositoryNotFound`` if none."""
        if not DNS_LABEL.fullmatch(app):
            raise RepositoryNotFound(f"`{app}` is not an app name, so it has no repository")
        try:
            repo = Repo(str(self.path(app)))
        except (NotGitRepository, FileNotFoundError, NotADirectoryError):
            raise RepositoryNotFound(f"app `{app}` has no repository") from None
        with repo:
            yield repo

    def create(self, app: str, files: Files, *, message: str, author: str) -> str:
        """A new repository whose ``main`` has one commit holding ``files``; its sha.

        The repository is built in a hidden folder next to the others and renamed into
        place, so it appears complete or not at all.
        """
        final = self.path(app)
        if final.exists():
            raise RepositoryExists(f"app `{app}` already has a repository")
        self.root.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".new-{app}-", dir=self.root))
        try:
            with Repo.init_bare(str(staging), default_branch=DEFAULT_BRANCH.encode()) as repo:
                sha = _commit(repo, files, branch=DEFAULT_BRANCH, message=message, author=author)
            _rename_into_place(staging, final, app)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        return sha

    def scaffold(
        self,
        app: str,
        *,
        workflow: dict[str, Any] | None = None,
        runtime: str = "python",
        author: str = SCAFFOLD_AUTHOR,
    ) -> str:
        """A new repository holding the project ``flowapp init`` would create; its sha.

        ``ScaffoldError`` (from ``flowapp.apps``) if the name, runtime or workflow is refused.
        """
        files = project_files(app, workflow=workflow, runtime=runtime)
        message = f"Create {app}" + (" from its workflow" if workflow is not None else "")
        return self.create(app, files, message=message, author=author)

    def commit_tree(
        self, app: str, files: Files, *, message: str, author: str, branch: str = DEFAULT_BRANCH
    ) -> str:
        """A new commit on ``branch`` whose tree is exactly ``files``; its sha.

        The branch's head, if any, is the parent (an empty repository gets a root commit).
        A commit is made even if nothing changed: an upload is a deliberate new version.
        """
        with self.open(app) as repo:
            return _commit(repo, files, branch=branch, message=message, author=author)

    def head(self, app: str, branch: str = DEFAULT_BRANCH) -> str | None:
        """The sha ``branch`` points at, or None if it does not exist (yet)."""
        with self.open(app) as repo:
            sha = _branch_head(repo, _branch_ref(branch))
        return sha.decode("ascii") if sha is not None else None

    def export(self, app: str, commit: str, target_dir: Path) -> None:
        """Write the tree of ``commit`` (a full sha) into ``target_dir``, new or empty."""
        with self.open(app) as repo:
            tree = _commit_object(repo, commit).tree
            write_tree(repo.object_store, tree, Path(target_dir))

    def delete(self, app: str) -> None:
        """Remove the app's repository; renamed away first so it vanishes at once."""
        final = self.path(app)
        doomed = self.root / f".deleted-{app}-{os.getpid()}-{time.monotonic_ns()}"
        try:
            final.rename(doomed)
        except FileNotFoundError:
            raise RepositoryNotFound(f"app `{app}` has no repository") from None
        shutil.rmtree(doomed)


def _commit(repo: Repo, files: Files, *, branch: str, message: str, author: str) -> str:
    ref = _branch_ref(branch)
    parent = _branch_head(repo, ref)
    commit = Commit()
    commit.tree = store_files(repo.object_store, files)
    commit.parents = [parent] if parent is not None else []
    commit.author = commit.committer = _person(author)
    commit.author_time = commit.commit_time = int(time.time())
    commit.author_timezone = commit.commit_timezone = 0
    commit.message = message.encode("utf-8") if message.endswith("\n") else f"{message}\n".encode()
    repo.object_store.add_object(commit)
    if not repo.refs.set_if_equals(ref, parent, commit.id, message=b"flowapp: commit"):
        raise BranchMoved(f"`{branch}` moved while the commit was made; nothing was changed")
    return commit.id.decode("ascii")


def _branch_ref(branch: str) -> Ref:
    ref = Ref(f"refs/heads/{branch}".encode())
    if not check_ref_format(ref):
        raise GitRepoError(f"`{branch}` is not a valid branch name")
    return ref


def _branch_head(repo: Repo, ref: Ref) -> ObjectID | None:
    try:
        return repo.refs[ref]
    except KeyError:
        return None


def _commit_object(repo: Repo, sha: str) -> Commit:
    if not _SHA.fullmatch(sha):
        raise GitRepoError(f"`{sha}` is not a full commit sha (40 hexadecimal digits)")
    try:
        found = repo[ObjectID(sha.encode("ascii"))]
    except KeyError:
        raise GitRepoError(f"commit {sha} is not in the repository") from None
    if not isinstance(found, Commit):
        raise GitRepoError(f"{sha} is a {found.type_name.decode()}, not a commit")
    return found


def _person(author: str) -> bytes:
    if not _AUTHOR.fullmatch(author):
        raise GitRepoError(f"author `{author}` is not of the form `Name <email>`")
    return author.encode("utf-8")


def _rename_into_place(staging: Path, final: Path, app: str) -> None:
    # rename(2) replaces an empty folder but fails on a non-empty one: a repository that
    # appeared meanwhile (a concurrent create) is never overwritten.
    with suppress(OSError):
        final.rmdir()  # an empty folder left by hand; a repository is never empty
    try:
        staging.rename(final)
    except OSError as exc:
        if exc.errno in (errno.ENOTEMPTY, errno.EEXIST):
            raise RepositoryExists(f"app `{app}` already has a repository") from None
        raise
