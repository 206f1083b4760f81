"""Each function's own dependencies: a venv from requirements.txt, npm install. Offline."""

from __future__ import annotations

import base64
import hashlib
import re
import shutil
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest

from flowapp.functions import build
from flowapp.functions.spec import FunctionSpec
from tests.calls import call

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "functions"


def build_wheel(package: Path, destination: Path, *, version: str = "0.1.0") -> Path:
    """A pure-Python wheel of ``package``, so pip installs it without an index or a backend."""
    name = package.name
    dist_info = f"{name}-{version}.dist-info"
    files = {f"{name}/{p.name}": p.read_bytes() for p in package.glob("*.py")}
    files[f"{dist_info}/METADATA"] = (
        f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n".encode()
    )
    files[f"{dist_info}/WHEEL"] = (
        b"Wheel-Version: 1.0\nGenerator: flowapp-tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
    )
    record = [f"{path},sha256={_digest(data)},{len(data)}" for path, data in files.items()]
    files[f"{dist_info}/RECORD"] = ("\n".join([*record, f"{dist_info}/RECORD,,"]) + "\n").encode()
    wheel = destination / f"{name}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        for path, data in files.items():
            archive.writestr(path, data)
    return wheel


def _digest(data: bytes) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


async def test_python_requirements_get_their_own_venv(make_supervisor: Any, tmp_path: Path) -> None:
    folder = tmp_path / "pydeps"
    shutil.copytree(FIXTURES / "pydeps", folder)
    build_wheel(folder / "tinylib" / "tinylib", folder)

    spec = FunctionSpec("pydeps", "python", folder)
    supervisor = await make_supervisor(spec, pip_args=["--no-index"])

    output = await call(supervisor, "pydeps", {"text": "hi"})
    assert output["shout"] == "HI!"
    assert output["where"].startswith(str(folder / ".venv"))
    stamp = folder / ".venv" / build.STAMP
    built_at = stamp.stat().st_mtime_ns

    # Unchanged requirements: the venv is reused as is.
    assert build.python_interpreter(folder) == str(folder / ".venv" / "bin" / "python")
    assert stamp.stat().st_mtime_ns == built_at


def test_no_requirements_means_flowapps_own_interpreter(tmp_path: Path) -> None:
    (tmp_path / "requirements.txt").write_text("# nothing yet\n\n")

    assert build.python_interpreter(tmp_path) == sys.executable
    assert not (tmp_path / ".venv").exists()


def test_a_failing_install_reports_pips_output(tmp_path: Path) -> None:
    (tmp_path / "requirements.txt").write_text("./missing-0.1-py3-none-any.whl\n")

    with pytest.raises(build.BuildError, match=re.escape("missing-0.1-py3-none-any.whl")):
        build.python_interpreter(tmp_path, pip_args=["--no-index"])


async def test_node_dependencies_are_installed_with_npm(
    make_supervisor: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("npm_config_offline", "true")  # a file: dependency needs no registry
    folder = tmp_path / "node_deps"
    shutil.copytree(FIXTURES / "node_deps", folder)

    supervisor = await make_supervisor(FunctionSpec("nodedeps", "node", folder))

    assert await call(supervisor, "nodedeps", {"text": "hi"}) == {"shout": "HI!"}
    assert (folder / "node_modules" / build.STAMP).is_file()
