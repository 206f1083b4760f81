"""`runtime: java` and `runtime: go` under the supervisor: built from source, then served
like Python and Node.js; compile errors, panics and unwritable outputs reported."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from flowapp.functions.build import find_go
from flowapp.functions.errors import FunctionReplyError
from flowapp.functions.spec import FunctionSpec
from flowapp.functions.supervisor import Supervisor
from tests import calls
from tests.servers import skip_unless_ci

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "functions"
needs_java = pytest.mark.skipif(skip_unless_ci(shutil.which("javac") is None), reason="needs a JDK")
needs_go = pytest.mark.skipif(skip_unless_ci(find_go() is None), reason="needs go")
# A first Go build with an empty cache compiles the host's standard library packages.
pytestmark = pytest.mark.timeout(600)
COMPILED = [pytest.param("java", marks=needs_java), pytest.param("go", marks=needs_go)]
ECHO = {"java": "java_echo", "go": "go_echo"}


def copy(name: str, tmp_path: Path) -> Path:
    folder = tmp_path / name
    shutil.copytree(FIXTURES / name, folder, ignore=shutil.ignore_patterns("target"))
    return folder


async def call(supervisor: Supervisor, name: str, data: Any, execution: str = "e1") -> Any:
    return await calls.call(supervisor, name, data, execution_id=execution)


@pytest.mark.parametrize("runtime", COMPILED)
async def test_calls_logs_and_errors_through_the_supervisor(
    runtime: str, make_supervisor: Any, eventually: Any, tmp_path: Path
) -> None:
    folder = copy(ECHO[runtime], tmp_path)
    supervisor = await make_supervisor(FunctionSpec("echo", runtime, folder))  # type: ignore[arg-type]

    output = await call(supervisor, "echo", {"text": "hi", "log": "tagged"}, execution="exec 7")
    assert output["echo"] == {"text": "hi", "log": "tagged"}
    assert output["execution_id"] == "exec 7"
    assert output["task_reference"] == "/do/0/echo"
    await eventually(lambda: supervisor.logs("echo", execution_id="exec 7"))
    (line,) = supervisor.logs("echo", execution_id="exec 7")
    assert "log: tagged" in line.text

    with pytest.raises(FunctionReplyError) as failed:
        await call(supervisor, "echo", {"fail": {"status": 409, "title": "Taken", "detail": "x"}})
    assert (failed.value.status, failed.value.problem["title"]) == (409, "Taken")

    with pytest.raises(FunctionReplyError) as raised:
        await call(supervisor, "echo", {"raise": "disk full"})
    assert raised.value.status == 500
    assert "disk full" in raised.value.problem["detail"]

    with pytest.raises(FunctionReplyError) as unwritable:
        await call(supervisor, "echo", {"unencodable": True})
    assert unwritable.value.status == 500
    assert unwritable.value.problem["title"] == "Output is not JSON"

    # The instance survived all of that.
    assert (await call(supervisor, "echo", [1]))["pid"] == output["pid"]


@needs_go
async def test_a_go_panic_is_a_500_not_a_dead_process(make_supervisor: Any, tmp_path: Path) -> None:
    supervisor = await make_supervisor(FunctionSpec("echo", "go", copy("go_echo", tmp_path)))
    before = await call(supervisor, "echo", {})

    with pytest.raises(FunctionReplyError) as panicked:
        await call(supervisor, "echo", {"panic": True})

    assert panicked.value.status == 500
    assert "assignment to entry in nil map" in panicked.value.problem["detail"]
    assert (await call(supervisor, "echo", {}))["pid"] == before["pid"]


@pytest.mark.parametrize(
    ("runtime", "fixture"),
    [
        pytest.param("java", "java_typed", marks=needs_java),
        pytest.param("go", "go_typed", marks=needs_go),
    ],
)
async def test_typed_handlers_decode_their_input(
    runtime: str, fixture: str, make_supervisor: Any, tmp_path: Path
) -> None:
    spec = FunctionSpec("greet", runtime, copy(fixture, tmp_path))  # type: ignore[arg-type]
    supervisor = await make_supervisor(spec)

    output = await call(supervisor, "greet", {"name": "Ada", "age": 36})
    assert output == {"greeting": "hello, Ada", "nextAge": 37}

    with pytest.raises(FunctionReplyError) as refused:
        await call(supervisor, "greet", {"name": "Ada", "age": "old"})
    assert refused.value.status == 400


BROKEN = {
    "java": (
        "src/main/java/Echo.java",
        "        Map<String, Object> input;",
        "        Map<String, Object> input",
    ),
    "go": (
        "main.go",
        "\tinput, ok := data.(map[string]any)",
        "\tinput, ok := data.(map[string]any",
    ),
}
MESSAGES = {"java": "src/main/java/Echo.java:", "go": "main.go:"}


@pytest.mark.parametrize("runtime", COMPILED)
async def test_a_compile_error_names_file_and_line_and_a_fix_reloads(
    runtime: str, make_supervisor: Any, tmp_path: Path
) -> None:
    folder = copy(ECHO[runtime], tmp_path)
    source, good, bad = BROKEN[runtime]
    text = (folder / source).read_text()
    (folder / source).write_text(text.replace(good, bad))

    supervisor = await make_supervisor(FunctionSpec("echo", runtime, folder))  # type: ignore[arg-type]

    status = supervisor.status()["echo"]
    assert status.state == "failing"
    assert MESSAGES[runtime] in (status.last_error or "")
    line = next(n for n, t in enumerate(text.splitlines(), 1) if t == good)
    assert f"{MESSAGES[runtime]}{line}" in (status.last_error or "")

    (folder / source).write_text(text)
    await supervisor.reload("echo")

    assert (await call(supervisor, "echo", {"text": "fixed"}))["echo"] == {"text": "fixed"}


@pytest.mark.parametrize(
    ("runtime", "fixture", "source"),
    [
        pytest.param("java", "java_render", "src/main/java/Render.java", marks=needs_java),
        pytest.param("go", "go_resize", "main.go", marks=needs_go),
    ],
)
async def test_the_examples_of_the_docs_run(
    runtime: str, fixture: str, source: str, make_supervisor: Any, tmp_path: Path
) -> None:
    # docs/functions.md shows these very files, so the docs cannot rot.
    docs = Path(__file__).resolve().parents[3] / "docs" / "functions.md"
    assert (FIXTURES / fixture / source).read_text().strip() in docs.read_text()
    spec = FunctionSpec("hello", runtime, copy(fixture, tmp_path))  # type: ignore[arg-type]
    supervisor = await make_supervisor(spec)

    assert await call(supervisor, "hello", {"name": "Duke"}) == {"greeting": "hello, Duke"}
    with pytest.raises(FunctionReplyError) as refused:
        await call(supervisor, "hello", {})
    assert (refused.value.status, refused.value.problem["title"]) == (422, "Missing name")
