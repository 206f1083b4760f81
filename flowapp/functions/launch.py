"""The command line and environment of one function instance, per runtime.

:func:`prepare` runs once per function (and again on reload): it installs dependencies
(``build.py``) and returns a :class:`Launcher` that turns a port into a :class:`Launch`
for each instance. The environment carries the contract's settings (``PORT``, ``HOST``)
and flowapp's (``FLOWAPP_FUNCTION``, ``FLOWAPP_APP``, ``FLOWAPP_CONCURRENCY``,
``FLOWAPP_GRACE_PERIOD``) on top of the supervisor's own environment and the spec's
``env``.

- ``python``: ``<interpreter> -m flowapp.functions.host --path <folder>``
- ``node``: ``node <flowapp>/functions/node/host.js --path <folder>``
- ``command``: the spec's ``command`` split like a shell would (no shell runs it)
"""

from __future__ import annotations

import os
import shlex
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from flowapp.functions import build
from flowapp.functions.spec import FunctionSpec

NODE_HOST = Path(__file__).with_name("node") / "host.js"


@dataclass(frozen=True, slots=True)
class Launch:
    argv: tuple[str, ...]
    cwd: Path
    env: dict[str, str]


@dataclass(frozen=True, slots=True)
class Launcher:
    """Everything about starting instances that does not depend on the port."""

    spec: FunctionSpec
    argv: tuple[str, ...]
    app: str
    grace_period: float

    def launch(self, port: int) -> Launch:
        env = dict(os.environ)
        env.update(self.spec.env)
        env.update(
            PORT=str(port),
            HOST="127.0.0.1",
            FLOWAPP_FUNCTION=self.spec.name,
            FLOWAPP_APP=self.app,
            FLOWAPP_FUNCTION_PATH=str(self.spec.path.resolve()),
            FLOWAPP_CONCURRENCY=str(self.spec.scale.concurrency),
            FLOWAPP_GRACE_PERIOD=f"{self.grace_period:g}",
            # Prints from a Python function reach the log ring as they happen.
            PYTHONUNBUFFERED="1",
        )
        return Launch(self.argv, self.spec.path.resolve(), env)


def prepare(
    spec: FunctionSpec, *, app: str, grace_period: float, pip_args: Sequence[str] = ()
) -> Launcher:
    """Check the folder, install dependencies, and fix the command line. Blocking."""
    folder = spec.path.resolve()
    if not folder.is_dir():
        raise build.BuildError(f"function {spec.name!r}: folder {folder} does not exist")
    return Launcher(spec, _argv(spec, folder, pip_args), app, grace_period)


def _argv(spec: FunctionSpec, folder: Path, pip_args: Sequence[str]) -> tuple[str, ...]:
    if spec.runtime == "python":
        python = build.python_interpreter(folder, pip_args=pip_args)
        return (python, "-m", "flowapp.functions.host", "--path", str(folder))
    if spec.runtime == "node":
        build.node_modules(folder)
        node = shutil.which("node")
        if node is None:
            raise build.BuildError(f"function {spec.name!r}: node is not on PATH")
        return (node, str(NODE_HOST), "--path", str(folder))
    argv = tuple(shlex.split(spec.command or ""))
    # A program with a slash (./run.sh) is found from the folder, which is the instance's
    # working directory; a bare name (java, perl) on PATH.
    program = argv[0]
    found = (folder / program).is_file() if "/" in program else shutil.which(program)
    if not found:
        raise build.BuildError(f"function {spec.name!r}: command {program!r} not found")
    return argv
