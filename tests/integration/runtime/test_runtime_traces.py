"""Spans across the durable engine's turns and a restart, on the real runtime and store:
an execution started by one process and finished by another is one trace, its spans
parented and timed as if one process had run it, and each function call names its own
task run's span; HTTP calls send the task's traceparent, sub-workflows join the trace."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from aiohttp import web
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from flowapp.engine.testing import workflow_from_yaml
from flowapp.functions.testing import FakeFunctions
from flowapp.functions.tracecontext import CURRENT, span_id_of, trace_id_of
from flowapp.runtime.dispatch import Effects
from flowapp.runtime.effects.functions import FunctionEffects
from flowapp.runtime.registry import WorkflowRegistry
from flowapp.runtime.runtime import Runtime
from flowapp.runtime.tracing import Tracing
from flowapp.store import open_store

WORKFLOW = """
do:
  - first: {call: note}
  - pause: {wait: {milliseconds: 400}}
  - second: {call: note}
"""


async def test_an_execution_finished_by_another_process_is_one_trace(tmp_path: Path) -> None:
    seen: list[str | None] = []

    async def note(data: Any, context: Any) -> dict[str, int]:
        seen.append(CURRENT.get())
        return {"calls": len(seen)}

    store = open_store(f"sqlite:///{tmp_path / 'runtime.db'}")
    store.migrate()
    document = workflow_from_yaml(WORKFLOW).definition
    workflow = WorkflowRegistry(store).add(document, app_functions=frozenset({"note"}))

    def process(exporter: InMemorySpanExporter) -> Runtime:
        effects = Effects(functions=FunctionEffects(FakeFunctions({"note": note})))
        tracing = Tracing(exporter, interval=0.05)
        return Runtime(store, registry=WorkflowRegistry(store), effects=effects, tracing=tracing)

    before, after = InMemorySpanExporter(), InMemorySpanExporter()
    first = process(before)
    await first.start()
    execution_id = await first.start_execution(workflow, {})
    while len(seen) < 1 or store.get_execution(execution_id).status != "waiting":
        await asyncio.sleep(0.02)
    await first.stop()  # mid-wait: the second process finishes it
    second = process(after)
    await second.start()
    outcome = await second.wait_for(execution_id, timeout=20)
    await second.stop()
    assert outcome.status == "completed"

    trace = trace_id_of(execution_id)
    spans_before = {s.name: s for s in before.get_finished_spans()}
    spans_after = {s.name: s for s in after.get_finished_spans()}
    assert set(spans_before) == {"task first"}
    (execution,) = [s for s in after.get_finished_spans() if s.name.startswith("execution ")]
    assert set(spans_after) == {"task pause", "task second", execution.name}
    record = store.get_execution(execution_id)
    assert execution.context.trace_id == trace
    assert execution.context.span_id == span_id_of(execution_id)
    assert execution.parent is None
    # Its start is the first process's: the span was never held open, only its id derived.
    assert execution.start_time == int(record.started_at * 1_000_000_000)
    first_task, pause, second_task = (
        spans_before["task first"],
        spans_after["task pause"],
        spans_after["task second"],
    )
    for span in (first_task, pause, second_task):
        assert span.context.trace_id == trace
        assert span.parent is not None and span.parent.span_id == execution.context.span_id
    assert first_task.end_time <= pause.start_time <= pause.end_time <= second_task.start_time
    # Each call named its own task run's span, from either process.
    assert seen == [
        f"00-{trace:032x}-{first_task.context.span_id:016x}-01",
        f"00-{trace:032x}-{second_task.context.span_id:016x}-01",
    ]
    store.close()


PARENT = """
document: {dsl: '1.0.3', namespace: test, name: parent, version: '1.0.0'}
do:
  - ping: {call: http, with: {method: get, endpoint: 'URL'}}
  - sub:
      run:
        workflow: {namespace: test, name: child, version: '1.0.0', input: {}}
  - later:
      run:
        workflow: {namespace: test, name: child, version: '1.0.0', input: {}}
        await: false
"""
CHILD = """
document: {dsl: '1.0.3', namespace: test, name: child, version: '1.0.0'}
do:
  - hi: {set: {x: 1}}
"""


async def test_http_calls_and_sub_workflows_continue_the_trace(tmp_path: Path) -> None:
    received: list[str | None] = []

    async def ping(request: web.Request) -> web.Response:
        received.append(request.headers.get("traceparent"))
        return web.json_response({"pong": True})

    app = web.Application()
    app.router.add_get("/ping", ping)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    store = open_store(f"sqlite:///{tmp_path / 'runtime.db'}")
    store.migrate()
    registry = WorkflowRegistry(store)
    registry.add(workflow_from_yaml(CHILD).definition)
    parent_text = PARENT.replace("URL", f"http://127.0.0.1:{port}/ping")
    workflow = registry.add(workflow_from_yaml(parent_text).definition)
    exporter = InMemorySpanExporter()
    runtime = Runtime(store, registry=registry, tracing=Tracing(exporter, interval=0.05))
    await runtime.start()
    try:
        execution_id = await runtime.start_execution(workflow, {})
        assert (await runtime.wait_for(execution_id, timeout=20)).status == "completed"
        deadline = asyncio.get_running_loop().time() + 10
        while (
            len([s for s in exporter.get_finished_spans() if s.name == "execution test.child"]) < 2
        ):
            assert asyncio.get_running_loop().time() < deadline, exporter.get_finished_spans()
            await asyncio.sleep(0.05)
    finally:
        await runtime.stop()
        await runner.cleanup()
        store.close()
    spans = exporter.get_finished_spans()
    trace = trace_id_of(execution_id)
    assert {s.context.trace_id for s in spans} == {trace}
    by_name = {s.name: s for s in spans if s.attributes["flowapp.execution.id"] == execution_id}
    ping_span, sub_span = by_name["task ping"], by_name["task sub"]
    assert received == [f"00-{trace:032x}-{ping_span.context.span_id:016x}-01"]
    children = [s for s in spans if s.name == "execution test.child"]
    parents = {s.parent.span_id for s in children if s.parent is not None}
    # the awaited child under the task that ran it, the other under the parent execution
    assert parents == {sub_span.context.span_id, span_id_of(execution_id)}
