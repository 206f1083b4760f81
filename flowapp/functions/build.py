"""Install a function's own dependencies, once per change of its dependency list.

- Python: a non-empty ``requirements.txt`` gets ``<folder>/.venv`` (``python -m venv
  --without-pip``, then this interpreter's pip installs into it with ``pip --python``,
  which saves the seconds ``ensurepip`` costs). A ``.pth`` file in that venv appends
  flowapp's own ``sys.path`` *after* the venv's site-packages, so the host module and its
  libraries import while the function's pinned versions win any clash.
- Node: a ``package.json`` with ``dependencies`` gets ``npm install --no-audit --no-fund``
  in the folder.

Each build writes a stamp holding a digest of its inputs (the dependency file, the
interpreter, flowapp's path); an unchanged digest skips the build. Builds are blocking
(they run for seconds): the supervisor runs them in a thread.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import flowapp

STAMP = ".flowapp-build"
_OUTPUT_TAIL = 20


class BuildError(Exception):
    """Installing a function's dependencies failed; the message ends with the tool's output."""


def python_interpreter(folder: Path, *, pip_args: Sequence[str] = ()) -> str:
    """The interpreter to run the Python function in ``folder`` with, building if needed."""
    requirements = folder / "requirements.txt"
    if not _has_requirements(requirements):
        return sys.executable
    venv = folder / ".venv"
    python = venv / "bin" / "python"
    digest = _digest(requirements.read_bytes(), sys.version, *flowapp_path())
    if python.exists() and _stamp(venv) == digest:
        return str(python)
    shutil.rmtree(venv, ignore_errors=True)
    _run([sys.executable, "-m", "venv", "--without-pip", str(venv)], cwd=folder)
    _link_flowapp(venv)
    pip = [sys.executable, "-m", "pip", "--python", str(python), "install"]
    _run(
        [*pip, "--disable-pip-version-check", "--no-input", "-r", requirements.name, *pip_args],
        cwd=folder,
    )
    (venv / STAMP).write_text(digest)
    return str(python)


def node_modules(folder: Path) -> None:
    """Run ``npm install`` in ``folder`` if its package.json declares dependencies."""
    manifest = folder / "package.json"
    if not manifest.is_file():
        return
    try:
        dependencies = json.loads(manifest.read_text()).get("dependencies") or {}
    except (ValueError, AttributeError) as exc:
        raise BuildError(f"{manifest} is not a JSON object: {exc}") from exc
    if not dependencies:
        return
    lock = folder / "package-lock.json"
    digest = _digest(manifest.read_bytes(), lock.read_bytes() if lock.is_file() else b"")
    if _stamp(folder / "node_modules") == digest:
        return
    npm = shutil.which("npm")
    if npm is None:
        raise BuildError(f"{manifest} declares dependencies but npm is not on PATH")
    _run([npm, "install", "--no-audit", "--no-fund"], cwd=folder)
    (folder / "node_modules" / STAMP).write_text(digest)


def flowapp_path() -> list[str]:
    """The ``sys.path`` entries this interpreter imports flowapp and its libraries from."""
    package_parent = str(Path(flowapp.__file__).resolve().parent.parent)
    entries = [
        p for p in sys.path if p.endswith(("site-packages", "dist-packages")) and os.path.isdir(p)
    ]
    return [package_parent, *dict.fromkeys(entries)]


def _link_flowapp(venv: Path) -> None:
    site_packages = next((venv / "lib").glob("python*/site-packages"))
    # addsitedir (not a plain path line) so the .pth files there, such as an editable
    # install's, are processed too; lines in a .pth run after the venv's own packages.
    lines = [f"import site; site.addsitedir({entry!r})" for entry in flowapp_path()]
    (site_packages / "_flowapp_host.pth").write_text("\n".join(lines) + "\n")


def _has_requirements(path: Path) -> bool:
    if not path.is_file():
        return False
    lines = (line.split("#", 1)[0].strip() for line in path.read_text().splitlines())
    return any(lines)


def _digest(*parts: bytes | str) -> str:
    sha = hashlib.sha256()
    for part in parts:
        sha.update(part.encode() if isinstance(part, str) else part)
        sha.update(b"\0")
    return sha.hexdigest()


def _stamp(directory: Path) -> str | None:
    try:
        return (directory / STAMP).read_text().strip()
    except OSError:
        return None


def _run(argv: list[str], *, cwd: Path) -> None:
    result = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        output = (result.stdout + result.stderr).strip().splitlines()[-_OUTPUT_TAIL:]
        raise BuildError(f"`{' '.join(argv)}` failed in {cwd}:\n" + "\n".join(output))
