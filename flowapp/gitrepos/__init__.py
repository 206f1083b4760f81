"""App repositories: each app's project in a bare git repository, served over smart HTTP.

An app's code lives in ``<root>/<app>.git``; its ``main`` branch is what deploys.

- ``Repositories`` (``repos``): create (from files, or scaffolded from a workflow like
  ``flowapp init``), commit a whole new tree (a source upload), read heads, export a
  commit to a folder for a deploy, delete, list. Blocking; run it in a thread.
- ``git_http_app`` (``http``): an ASGI app speaking git's smart HTTP protocol through
  dulwich, with HTTP Basic authentication (an API token as password) and an ``on_push``
  callback when ``main`` moves. The server mounts it at ``/git``.

Modules, by role: ``trees`` (files <-> git trees, path safety), ``project`` (scaffolded
files), ``service`` (dulwich handlers over read/write callables), ``bridge`` (those
callables, from a worker thread to ASGI), ``asgi`` (types and small helpers), ``errors``.
The guide is ``docs/git.md``.
"""

from __future__ import annotations

from flowapp.gitrepos.errors import (
    BranchMoved,
    GitRepoError,
    InvalidPath,
    RepositoryExists,
    RepositoryNotFound,
)
from flowapp.gitrepos.http import git_http_app
from flowapp.gitrepos.repos import DEFAULT_BRANCH, Repositories
from flowapp.gitrepos.trees import EXECUTABLE, REGULAR, SYMLINK, File, Files, read_directory

__all__ = [
    "DEFAULT_BRANCH",
    "EXECUTABLE",
    "REGULAR",
    "SYMLINK",
    "BranchMoved",
    "File",
    "Files",
    "GitRepoError",
    "InvalidPath",
    "Repositories",
    "RepositoryExists",
    "RepositoryNotFound",
    "git_http_app",
    "read_directory",
]
