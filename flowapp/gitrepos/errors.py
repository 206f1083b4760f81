"""The errors of app repositories: one root, ``GitRepoError``, and the cases callers tell apart.

The server maps them to HTTP problems: ``RepositoryNotFound`` to 404, ``RepositoryExists``
and ``BranchMoved`` to 409, ``InvalidPath`` (a file path or a tree that cannot be stored or
checked out safely) to 422. dulwich's own errors are converted where they arise, with
``raise … from exc``, so nothing outside this package needs to know about dulwich.
"""

from __future__ import annotations


class GitRepoError(Exception):
    """Something about an app's repository refused or failed; the message says what."""


class RepositoryNotFound(GitRepoError):
    """The app has no repository (never created, or deleted)."""


class RepositoryExists(GitRepoError):
    """``create`` was asked for an app that already has a repository."""


class BranchMoved(GitRepoError):
    """The branch changed (a push landed) while a commit was being made; nothing changed.

    Retrying rebuilds the commit on top of the new head, which replaces what the push
    brought: the caller decides whether that is what the user wants.
    """


class InvalidPath(GitRepoError):
    """A path that cannot be part of a project: absolute, ``..``, ``.git``, or escaping.

    Pushed trees are user input, so the same checks run when a tree is written to disk.
    """
