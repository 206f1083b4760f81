"""The author's own error found in what a function printed when it could not start:
real Python tracebacks and Node.js stacks, produced here by loading broken files."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from flowapp.functions.boot_errors import user_error

LOAD_PYTHON = (
    "import importlib.util, sys\n"
    "spec = importlib.util.spec_from_file_location('main', sys.argv[1])\n"
    "spec.loader.exec_module(importlib.util.module_from_spec(spec))\n"
)


def printed(command: list[str]) -> list[str]:
    done = subprocess.run(command, capture_output=True, text=True, timeout=30)
    assert done.returncode != 0
    return (done.stdout + done.stderr).splitlines()


def python_output(folder: Path, code: str) -> list[str]:
    (folder / "main.py").write_text(code)
    return printed([sys.executable, "-c", LOAD_PYTHON, str(folder / "main.py")])


def test_a_python_syntax_error(tmp_path: Path) -> None:
    lines = python_output(tmp_path, "def handle(data, context)\n    return data\n")
    found = user_error(lines, tmp_path)
    assert found is not None
    assert found.describe(tmp_path) == "main.py:1: SyntaxError: expected ':'"
    assert found.excerpt[0].strip() == "def handle(data, context)"


def test_a_python_error_raised_while_the_module_loads(tmp_path: Path) -> None:
    (tmp_path / "helpers.py").write_text("import json\n\n\nVALUE = json.loads('{')\n")
    code = f"import sys\nsys.path.insert(0, {str(tmp_path)!r})\nimport helpers\n"
    found = user_error(python_output(tmp_path, code), tmp_path)
    assert found is not None
    assert found.describe(tmp_path).startswith("helpers.py:4: json.decoder.JSONDecodeError:")


def test_a_missing_module(tmp_path: Path) -> None:
    found = user_error(python_output(tmp_path, "\nimport not_installed_anywhere\n"), tmp_path)
    assert found is not None
    expected = "main.py:2: ModuleNotFoundError: No module named 'not_installed_anywhere'"
    assert found.describe(tmp_path) == expected


needs_node = pytest.mark.skipif(shutil.which("node") is None, reason="needs Node.js")


@needs_node
def test_a_node_syntax_error(tmp_path: Path) -> None:
    (tmp_path / "index.js").write_text("exports.handle = async (data) => {\n  return data +;\n};\n")
    lines = printed(["node", "-e", f"require({str(tmp_path / 'index.js')!r})"])
    found = user_error(lines, tmp_path)
    assert found is not None
    assert found.describe(tmp_path) == "index.js:2: SyntaxError: Unexpected token ';'"
    assert found.excerpt[0].strip() == "return data +;"


@needs_node
def test_a_node_error_thrown_while_the_module_loads(tmp_path: Path) -> None:
    (tmp_path / "index.js").write_text("const x = 1;\nthrow new Error('boom at load');\n")
    lines = printed(["node", "-e", f"require({str(tmp_path / 'index.js')!r})"])
    found = user_error(lines, tmp_path)
    assert found is not None
    assert found.describe(tmp_path) == "index.js:2: Error: boom at load"


def test_output_with_no_frame_in_the_folder_names_nothing(tmp_path: Path) -> None:
    other = tmp_path / "other"
    other.mkdir()
    lines = python_output(tmp_path, "raise RuntimeError('x')\n")
    assert user_error(lines, other) is None
