"""The files of a new app's project, as ``flowapp init`` lays it out, in memory.

``flowapp.apps.scaffold`` writes projects to disk and keeps its template assembly private,
so the project is rendered into a temporary folder and read back: one code path makes
both ``flowapp init`` projects and hosted repositories, executable bits included.
"""

from __future__ import annotations

import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flowapp.apps.scaffold import init_project
from flowapp.gitrepos.trees import File, read_directory


def project_files(
    app: str, *, workflow: Mapping[str, Any] | None, runtime: str = "python"
) -> dict[str, File]:
    """``flowapp.yaml``, ``workflow.yaml`` and a folder per function ``workflow`` calls.

    Without a workflow, the starter project (one function, ``hello``). ``ScaffoldError``
    if the name, the runtime or a called function's name is refused.
    """
    with tempfile.TemporaryDirectory(prefix="flowapp-scaffold-") as scratch:
        folder = init_project(Path(scratch, app), app, workflow=workflow, runtime=runtime)
        return read_directory(folder)
