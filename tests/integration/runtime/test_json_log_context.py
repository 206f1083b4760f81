"""JSON log lines name the execution, task and trace they are about: records made while
a task's effect runs (a function call here), on the real runtime and store."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest

from flowapp.cli.logsetup import JsonFormatter
from flowapp.engine.testing import workflow_from_yaml
from flowapp.functions.testing import FakeFunctions
from flowapp.functions.tracecontext import CURRENT as CURRENT_TRACE
from flowapp.functions.tracecontext import trace_id_of
from flowapp.runtime import logcontext
from flowapp.runtime.dispatch import Effects
from flowapp.runtime.effects.functions import FunctionEffects
from flowapp.runtime.registry import WorkflowRegistry
from flowapp.runtime.runtime import Runtime
from flowapp.store import open_store

CALLER_TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
WORKFLOW = "do:\n  - first: {set: {a: 1}}\n  - second: {call: note}\n"


class Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.setFormatter(JsonFormatter())
        self.lines: list[dict[str, Any]] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(orjson.loads(self.format(record)))


@pytest.fixture
def lines() -> Iterator[Lines]:
    handler = Lines()
    logger = logging.getLogger("flowapp.test.jsonlogs")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logcontext.enable()
    try:
        yield handler
    finally:
        logcontext.enable(False)
        logger.removeHandler(handler)


async def _run(tmp_path: Path, caller: str | None) -> str:
    async def note(data: Any, context: Any) -> dict[str, bool]:
        logging.getLogger("flowapp.test.jsonlogs").info("calling out")
        return {"noted": True}

    store = open_store(f"sqlite:///{tmp_path / 'runtime.db'}")
    store.migrate()
    registry = WorkflowRegistry(store)
    document = workflow_from_yaml(WORKFLOW).definition
    workflow = registry.add(document, app_functions=frozenset({"note"}))
    effects = Effects(functions=FunctionEffects(FakeFunctions({"note": note})))
    runtime = Runtime(store, registry=registry, effects=effects)
    await runtime.start(recover=False)
    try:
        token = CURRENT_TRACE.set(caller)  # what the API's middleware does for a request
        try:
            execution_id = await runtime.start_execution(workflow, {})
        finally:
            CURRENT_TRACE.reset(token)
        outcome = await runtime.wait_for(execution_id, 20)
        assert outcome.status == "completed", outcome
        return execution_id
    finally:
        await runtime.stop()
        store.close()


async def test_a_record_made_by_a_task_names_its_execution_task_and_the_callers_trace(
    tmp_path: Path, lines: Lines
) -> None:
    execution_id = await _run(tmp_path, f"00-{CALLER_TRACE}-00f067aa0ba902b7-01")
    (line,) = lines.lines
    assert line["message"] == "calling out"
    assert line["logger"] == "flowapp.test.jsonlogs"
    assert line["execution_id"] == execution_id
    assert line["task_reference"] == "/do/1/second"
    assert line["trace_id"] == CALLER_TRACE


async def test_without_a_caller_the_trace_id_is_the_one_its_spans_get(
    tmp_path: Path, lines: Lines
) -> None:
    execution_id = await _run(tmp_path, None)
    (line,) = lines.lines
    assert line["execution_id"] == execution_id
    assert line["trace_id"] == f"{trace_id_of(execution_id):032x}"


async def test_records_made_elsewhere_carry_no_execution(lines: Lines) -> None:
    logging.getLogger("flowapp.test.jsonlogs").info("starting")
    (line,) = lines.lines
    assert line["message"] == "starting" and line["level"] == "INFO"
    assert "execution_id" not in line and "trace_id" not in line


def test_a_traceback_is_written_as_the_redaction_filter_left_it(lines: Lines) -> None:
    from flowapp.runtime.sealing import KnownSecrets
    from flowapp.runtime.secrets.redaction import RedactSecrets

    lines.addFilter(RedactSecrets(lambda: KnownSecrets({"token": "hunter2-secret"})))
    try:
        raise RuntimeError("bad token hunter2-secret")
    except RuntimeError:
        logging.getLogger("flowapp.test.jsonlogs").exception("failed with hunter2-secret")
    (line,) = lines.lines
    assert "hunter2-secret" not in line["message"]
    assert "RuntimeError" in line["exception"] and "hunter2-secret" not in line["exception"]
