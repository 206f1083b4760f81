"""A push to an app's ``main`` is checked before the branch moves: a project that cannot
deploy is refused by the push itself, every problem printed by git as a ``remote:`` line.

    git push --> receive-pack (worker thread) --> check_commit(app, sha)
        export the commit to a scratch folder --> load_app (what a deploy would load)
        --> ["flowapp.yaml:12:7: /spec/functions/x/path: ...", ...]  ([]: let it move)

The check is the deploy's own first step (``Deployer._stage``), run before the ref moves
instead of after, so what it refuses would have been a failed deploy; what it lets
through may still fail later (a function that does not start), which is then recorded
as a failed deploy and shown in the app's conditions.
"""

from __future__ import annotations

import dataclasses
import shutil
import uuid
from pathlib import Path

from flowapp.apps import load_app
from flowapp.dsl.problems import DefinitionError, Problem
from flowapp.gitrepos.errors import GitRepoError
from flowapp.local.repositories import Repositories


def check_commit(
    repositories: Repositories,
    app: str,
    commit: str,
    data_dir: Path,
    environment: str | None,
) -> list[str]:
    """The problems that keep ``commit`` of ``app``'s repository from deploying, each as
    ``file:line:column: pointer: message`` with the file named as in the project, loaded
    for ``environment`` in a scratch folder under ``data_dir``. Blocking: run it in a
    thread (the git service's worker)."""
    folder = data_dir / "revisions" / f".check-{uuid.uuid4().hex}"
    try:
        try:
            repositories.export(app, commit, folder)
        except (GitRepoError, OSError, ValueError) as exc:
            return [f"the commit cannot be checked out: {exc}"]
        try:
            loaded = load_app(folder, environment)
        except DefinitionError as error:
            return [str(_in_project(problem, folder)) for problem in error.problems]
        if loaded.name != app:
            return [
                f"flowapp.yaml: /metadata/name: the project is app {loaded.name!r}, "
                f"but this is the repository of {app!r}"
            ]
        return []
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _in_project(problem: Problem, folder: Path) -> Problem:
    """The problem with its file named as in the project, not by the scratch folder."""
    try:
        relative = Path(problem.file).resolve().relative_to(folder.resolve())
    except ValueError:
        return problem
    return dataclasses.replace(problem, file=relative.as_posix())
