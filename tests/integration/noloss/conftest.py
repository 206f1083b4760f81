"""Fixtures of the no-loss tests: a broker per queue trigger kind, ``flowapp up`` processes
that are always cleaned up. The Kafka-compatible broker (Tansu) is the session's, from
``tests/integration/conftest.py``.

NATS, RabbitMQ, Redis and Mosquitto are the machine's shared servers: every broker here
uses uuid-suffixed names and deletes them afterwards.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Generator, Iterator
from pathlib import Path

import pytest

from tests.integration.noloss.brokers import Broker, NatsBroker, RabbitBroker, RedisBroker
from tests.integration.noloss.brokers_sessions import KafkaBroker, MqttBroker
from tests.integration.noloss.launcher import FlowappUp

KINDS = ("nats", "rabbitmq", "redis", "mqtt", "kafka")


def _broker(request: pytest.FixtureRequest, *, message_ids: bool) -> Broker:
    kind = request.param
    if kind == "kafka":
        return KafkaBroker(request.getfixturevalue("tansu"))
    if kind == "mqtt":
        return MqttBroker(message_ids=message_ids)
    if kind == "nats":
        return NatsBroker()
    return RabbitBroker() if kind == "rabbitmq" else RedisBroker()


@pytest.fixture(params=KINDS)
async def broker(request: pytest.FixtureRequest) -> AsyncIterator[Broker]:
    """Messages with the ids a broker gives (MQTT: none, the trigger's digest)."""
    made = _broker(request, message_ids=False)
    await made.setup()
    yield made
    await made.cleanup()


@pytest.fixture(params=KINDS)
async def replayable(request: pytest.FixtureRequest) -> AsyncIterator[Broker]:
    """Messages whose id survives being sent again (MQTT: the ``msg-id`` property)."""
    made = _broker(request, message_ids=True)
    await made.setup()
    yield made
    await made.cleanup()


@pytest.fixture
def launch(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Callable[[Path], FlowappUp]]:
    """``launch(app_folder)``: a ``FlowappUp`` on the test's data dir (not started yet).
    Whatever it leaves running is killed after the test; on failure its log tail is shown."""
    made: list[FlowappUp] = []

    def launcher(folder: Path) -> FlowappUp:
        up = FlowappUp(data_dir=tmp_path / "data", app_dir=folder, log=tmp_path / "up.log")
        made.append(up)
        return up

    try:
        yield launcher
    finally:
        for up in made:
            up.cleanup()
        report = getattr(request.node, "rep_call", None)
        if report is not None and report.failed:
            print("\n".join(up.tail() for up in made))  # captured into the failure report


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield  # kept on the item: the ``launch`` fixture shows logs when the test failed
    if report.when == "call":
        item.rep_call = report  # type: ignore[attr-defined]
    return report
