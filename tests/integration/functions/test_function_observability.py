"""Logs per execution and Prometheus metrics, from real calls."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from flowapp.functions.errors import FunctionReplyError, FunctionTimeout
from flowapp.functions.spec import FunctionSpec, ScaleSpec
from flowapp.functions.supervisor import Supervisor
from tests import calls

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "functions"
LABELS = {"app": "shop", "revision": "r1", "function": "echo"}


async def call(supervisor: Supervisor, data: Any, *, execution: str = "e1", **options: Any) -> Any:
    return await calls.call(supervisor, "echo", data, execution_id=execution, **options)


async def test_logs_of_one_execution(make_supervisor: Any, eventually: Any, tmp_path: Path) -> None:
    spec = FunctionSpec("echo", "python", FIXTURES / "echo")
    supervisor = await make_supervisor(spec, log_dir=tmp_path / "logs")

    await call(supervisor, {"log": "for e1"}, execution="e1")
    await call(supervisor, {"log": "for e2"}, execution="e2")
    await call(supervisor, {"log": "again e1"}, execution="e1")
    await eventually(lambda: len(supervisor.logs("echo", execution_id="e1")) == 2)  # via a pipe

    lines = supervisor.logs("echo", execution_id="e1")
    assert [line.text.split('"message":"')[1].split('"')[0] for line in lines] == [
        "log: for e1",
        "log: again e1",
    ]
    assert {(line.function, line.instance, line.task_reference) for line in lines} == {
        ("echo", "echo-1", "/do/0/echo")
    }
    assert len(supervisor.logs("echo")) > len(lines)  # the host's own lines too
    assert "log: for e2" in (tmp_path / "logs" / "echo.log").read_text()


def samples(registry: CollectorRegistry) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    text = registry_text(registry)
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def registry_text(registry: CollectorRegistry) -> str:
    return generate_latest(registry).decode()


def value(
    found: dict[tuple[str, tuple[tuple[str, str], ...]], float], name: str, **labels: str
) -> float:
    return found[(name, tuple(sorted((LABELS | labels).items())))]


async def test_metrics_count_the_calls_made(
    make_supervisor: Any, registry: CollectorRegistry, eventually: Any
) -> None:
    spec = FunctionSpec("echo", "python", FIXTURES / "echo", timeout=0.5)
    supervisor = await make_supervisor(spec, app="shop", revision="r1", grace_period=0.5)

    for n in range(3):
        await call(supervisor, n)
    with pytest.raises(FunctionReplyError):
        await call(supervisor, {"fail": {"status": 409, "title": "Conflict"}})
    with pytest.raises(FunctionReplyError):
        await call(supervisor, {"raise": "boom"})
    with pytest.raises(FunctionTimeout):
        await call(supervisor, {"hang": True})
    with pytest.raises(Exception, match="'echo'"):
        await call(supervisor, {"exit": 1})
    await eventually(lambda: supervisor.status()["echo"].ready == 1)

    found = samples(registry)
    assert value(found, "flowapp_function_requests_total", code="2xx") == 3
    assert value(found, "flowapp_function_requests_total", code="4xx") == 1
    assert value(found, "flowapp_function_requests_total", code="5xx") == 1
    assert value(found, "flowapp_function_requests_total", code="timeout") == 1
    assert value(found, "flowapp_function_requests_total", code="unavailable") == 1
    assert value(found, "flowapp_function_request_duration_seconds_count") == 7
    assert value(found, "flowapp_function_request_duration_seconds_sum") >= 0.5
    assert value(found, "flowapp_function_requests_in_flight") == 0
    assert value(found, "flowapp_function_instances") == 1
    assert value(found, "flowapp_function_restarts_total") == 1
    assert value(found, "flowapp_function_cold_starts_total") == 0  # min=1: kept warm
    assert supervisor.metrics.exposition().decode() == registry_text(registry)


async def test_a_call_to_a_function_scaled_to_zero_is_a_cold_start(
    make_supervisor: Any, registry: CollectorRegistry
) -> None:
    spec = FunctionSpec("echo", "python", FIXTURES / "echo", scale=ScaleSpec(min=0))
    supervisor = await make_supervisor(spec, app="shop", revision="r1")
    assert value(samples(registry), "flowapp_function_cold_starts_total") == 0

    await call(supervisor, 1)  # starts the first instance
    await call(supervisor, 2)  # served by it

    found = samples(registry)
    assert value(found, "flowapp_function_cold_starts_total") == 1
    assert value(found, "flowapp_function_requests_total", code="2xx") == 2
