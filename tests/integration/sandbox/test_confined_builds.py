"""Installing a function's dependencies runs their code, so pip and npm run in the
sandbox too: as the app's user, with only the function's folder writable."""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from pathlib import Path
from typing import Any

from flowapp.functions import build
from flowapp.functions.spec import FunctionSpec
from flowapp.sandbox import Sandbox, run_blocking
from flowapp.sandbox.identity import app_user
from tests.calls import call

_HELPERS = Path(__file__).resolve().parents[1] / "functions" / "test_function_build.py"


def build_wheel(package: Path, destination: Path) -> Path:
    """The function build tests' offline wheel maker (one copy of it)."""
    spec = importlib.util.spec_from_file_location("function_build_helpers", _HELPERS)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.build_wheel(package, destination)  # type: ignore[no-any-return]


def owners(folder: Path) -> set[int]:
    return {path.lstat().st_uid for path in [folder, *folder.rglob("*")]}


async def test_pip_builds_the_venv_as_the_apps_user(
    make_supervisor: Any, open_confined: Callable[..., Sandbox], deployed: Any
) -> None:
    folder = deployed("pydeps", "pydeps")
    build_wheel(folder / "tinylib" / "tinylib", folder)
    supervisor = await make_supervisor(
        FunctionSpec("pydeps", "python", folder), sandbox=open_confined(), pip_args=["--no-index"]
    )

    output = await call(supervisor, "pydeps", {"text": "hi"})

    assert output == {"shout": "HI!", "where": output["where"]}
    assert output["where"].startswith(str(folder / ".venv"))
    assert owners(folder) == {app_user("shop").uid}  # the venv included, stamp and all
    assert (folder / ".venv" / build.STAMP).is_file()


async def test_npm_installs_as_the_apps_user(
    make_supervisor: Any, open_confined: Callable[..., Sandbox], deployed: Any
) -> None:
    folder = deployed("node_deps", "nodedeps")

    supervisor = await make_supervisor(
        FunctionSpec("nodedeps", "node", folder), sandbox=open_confined()
    )

    assert await call(supervisor, "nodedeps", {"text": "hi"}) == {"shout": "HI!"}
    assert owners(folder / "node_modules") == {app_user("shop").uid}


def test_a_build_writes_its_folder_and_nothing_else(
    open_confined: Callable[..., Sandbox], deployed: Any, data_dir: Path
) -> None:
    folder = deployed("echo", "echo")
    sandbox = open_confined()
    sandbox.hand_over(folder, "shop")
    token = data_dir / "admin-token"
    script = (
        f'echo built > "{folder}/built"; cat "{token}"; echo owned > "{token}"; '
        "echo owned > /usr/owned"
    )
    spawn = sandbox.spawn(["sh", "-c", script], app="shop", env={}, cwd=folder, writable=[folder])

    result = run_blocking(spawn, timeout=30)

    assert (folder / "built").read_text() == "built\n"
    assert (folder / "built").stat().st_uid == app_user("shop").uid
    assert token.read_text() == "fa_secret\n"
    # The data directory is an empty skeleton there, leading to the function's folder only.
    assert f"cat: {token}: No such file or directory" in result.stderr
    assert f"cannot create {token}: Permission denied" in result.stderr
    assert "Read-only file system" in result.stderr


def test_only_folders_inside_the_data_directory_change_hands(
    open_confined: Callable[..., Sandbox], deployed: Any, tmp_path: Path
) -> None:
    revision = deployed("echo", "echo")
    project = tmp_path / "project" / "echo"  # `flowapp dev` serves a project in place
    project.mkdir(parents=True)
    (project / "main.py").write_text("def handle(data, context):\n    return data\n")
    sandbox = open_confined()

    sandbox.hand_over(revision, "shop")
    sandbox.hand_over(project, "shop")

    assert owners(revision) == {app_user("shop").uid}
    assert owners(project) == {0}
