"""Fixtures for FlowApp tests: projects written into ``tmp_path`` from a flowapp.yaml text."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path

import pytest

ENTRY_POINTS = {
    "python": ("main.py", "def handle(data, context):\n    return data\n"),
    "node": ("index.js", "exports.handle = async (data) => data;\n"),
}

MakeProject = Callable[..., Path]


@pytest.fixture
def make_project(tmp_path: Path) -> MakeProject:
    """``make_project(flowapp_yaml, functions={"append": "python"}, files={...})``: the folder.

    Each function gets ``functions/<name>/`` with its runtime's entry point; ``files`` adds
    more files (relative path -> text), e.g. ``workflow.yaml``.
    """

    def make(
        flowapp_yaml: str,
        functions: Mapping[str, str] | None = None,
        files: Mapping[str, str] | None = None,
    ) -> Path:
        project = tmp_path / "project"
        project.mkdir(exist_ok=True)
        (project / "flowapp.yaml").write_text(flowapp_yaml)
        for name, runtime in (functions or {}).items():
            file, text = ENTRY_POINTS[runtime]
            folder = project / "functions" / name
            folder.mkdir(parents=True, exist_ok=True)
            (folder / file).write_text(text)
        for relative, text in (files or {}).items():
            (project / relative).parent.mkdir(parents=True, exist_ok=True)
            (project / relative).write_text(text)
        return project

    return make
