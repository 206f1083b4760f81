"""`runtime: command`: functions in Perl and Java, written from the contract alone."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from flowapp.functions.errors import FunctionReplyError
from flowapp.functions.spec import FunctionSpec
from flowapp.functions.supervisor import Supervisor
from tests import calls
from tests.servers import skip_unless_ci

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "functions"


@pytest.fixture
async def perl(make_supervisor: Any) -> Supervisor:
    spec = FunctionSpec("hello", "command", FIXTURES / "perl_hello", command="perl hello.pl")
    return await make_supervisor(spec)


async def call(supervisor: Supervisor, data: Any, *, execution: str = "e1") -> Any:
    return await calls.call(supervisor, "hello", data, execution_id=execution, attempt=2)


async def test_perl_function_answers_through_the_supervisor(perl: Supervisor) -> None:
    output = await call(perl, {"name": "Ada Lovelace"}, execution="exec 1")

    assert output == {
        "greeting": "hello, Ada Lovelace",
        "runtime": "perl",
        "execution_id": "exec 1",  # percent-decoded from the ce- header
        "attempt": 2,
    }


async def test_perl_function_error_is_a_reply_error(perl: Supervisor) -> None:
    with pytest.raises(FunctionReplyError) as caught:
        await call(perl, {"name": "x", "fail": True})

    assert caught.value.status == 422
    assert caught.value.problem["title"] == "Refused"


async def test_perl_json_logs_are_split_per_execution(perl: Supervisor, eventually: Any) -> None:
    await call(perl, {"name": "a"}, execution="e1")
    await call(perl, {"name": "b"}, execution="e2")

    await eventually(lambda: perl.logs("hello", execution_id="e2"))  # lines travel through a pipe
    (line,) = perl.logs("hello", execution_id="e2")
    assert "greeting b" in line.text
    assert line.instance == "hello-1"
    assert line.task_reference == "/do/0/hello"


@pytest.mark.skipif(skip_unless_ci(shutil.which("javac") is None), reason="needs a JDK")
async def test_java_function_from_the_docs(make_supervisor: Any, tmp_path: Path) -> None:
    source = FIXTURES / "java_hello" / "Hello.java"
    # The example in docs/functions.md is this very file, so the docs cannot rot.
    docs = Path(__file__).resolve().parents[3] / "docs" / "functions.md"
    assert source.read_text().strip() in docs.read_text()
    subprocess.run(["javac", "-d", str(tmp_path), str(source)], check=True)
    spec = FunctionSpec("hello", "command", tmp_path, command="java -cp . Hello")
    supervisor = await make_supervisor(spec)

    assert await call(supervisor, {"name": "Duke"}) == {"length": 15}
    await supervisor.stop()  # SIGTERM: the JVM's shutdown hook exits promptly
    assert supervisor.status()["hello"].state == "stopped"
