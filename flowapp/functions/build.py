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

Installing packages runs their code (``setup.py``, npm ``install`` scripts), so a
:class:`Builder` runs pip and npm in the supervisor's sandbox, as the app's user, with the
function's folder writable and the network shared (the package index must be reachable).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import flowapp
from flowapp.sandbox import Sandbox, run_blocking

STAMP = ".flowapp-build"
_OUTPUT_TAIL = 20
_BUILD_TIMEOUT = 900.0


class BuildError(Exception):
    """Installing a function's dependencies failed; the message ends with the tool's output."""


@dataclass(frozen=True, slots=True)
class Builder:
    """Builds for one app, in ``sandbox``; ``readable`` are the folders the tools read."""

    sandbox: Sandbox = field(default_factory=lambda: Sandbox("off"))
    app: str = "default"
    readable: tuple[Path, ...] = ()

    def python_interpreter(self, folder: Path, *, pip_args: Sequence[str] = ()) -> str:
        """The interpreter to run the Python function in ``folder`` with, building if
        needed."""
        requirements = folder / "requirements.txt"
        if not _has_requirements(requirements):
            return sys.executable
        venv = folder / ".venv"
        python = venv / "bin" / "python"
        digest = _digest(requirements.read_bytes(), sys.version, *flowapp_path())
        if python.exists() and _stamp(venv) == digest:
            return str(python)
        shutil.rmtree(venv, ignore_errors=True)
        self._run([sys.executable, "-m", "venv", "--without-pip", str(venv)], cwd=folder)
        _link_flowapp(venv)
        pip = [sys.executable, "-m", "pip", "--python", str(python), "install"]
        options = ["--disable-pip-version-check", "--no-input", "-r", requirements.name]
        self._run([*pip, *options, *pip_args], cwd=folder)
        (venv / STAMP).write_text(digest)
        self.sandbox.hand_over(folder, self.app, again=True)  # the files written as root
        return str(python)

    def node_modules(self, folder: Path) -> None:
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
        npm = shutil.which("npm", path=self.sandbox.search_path())
        if npm is None:
            raise BuildError(f"{manifest} declares dependencies but npm is not on PATH")
        self._run([npm, "install", "--no-audit", "--no-fund"], cwd=folder)
        (folder / "node_modules" / STAMP).write_text(digest)
        self.sandbox.hand_over(folder, self.app, again=True)

    def _run(self, argv: list[str], *, cwd: Path) -> None:
        spawn = self.sandbox.spawn(
            argv, app=self.app, env={}, cwd=cwd, readable=self.readable, writable=[cwd]
        )
        try:
            result = run_blocking(spawn, timeout=_BUILD_TIMEOUT)
        except subprocess.TimeoutExpired:
            raise BuildError(f"`{' '.join(argv)}` ran past {_BUILD_TIMEOUT:g} s in {cwd}") from None
        except OSError as exc:
            raise BuildError(f"cannot run `{argv[0]}`: {exc}") from exc
        if result.returncode != 0:
            output = (result.stdout + result.stderr).strip().splitlines()[-_OUTPUT_TAIL:]
            raise BuildError(f"`{' '.join(argv)}` failed in {cwd}:\n" + "\n".join(output))


def python_interpreter(folder: Path, *, pip_args: Sequence[str] = ()) -> str:
    """:meth:`Builder.python_interpreter`, unconfined."""
    return Builder().python_interpreter(folder, pip_args=pip_args)


def node_modules(folder: Path) -> None:
    """:meth:`Builder.node_modules`, unconfined."""
    Builder().node_modules(folder)


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
