"""Brokers that are down at start-up, come up later, go away and come back.

A throwaway ``nats-server`` (JetStream, its own store directory) and a throwaway Tansu
broker on free ports let these tests control the server's life, which the shared
servers of the machine must not be subjected to.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import nats
from aiokafka import AIOKafkaProducer

from flowapp.triggers import Backoff, TriggerState, build_trigger
from flowapp.triggers.testing import RecordingSink, eventually

from .servers import free_port, start_tansu, stop_process, wait_for_port

NATS_SERVER = "/usr/sbin/nats-server"
RECONNECT = Backoff(delay=0.05, maximum=0.3)


def start_nats(port: int, store: Path) -> subprocess.Popen[bytes]:
    command = [NATS_SERVER, "-a", "127.0.0.1", "-p", str(port), "-js", "-sd", str(store)]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_for_port(port)
    return process


async def publish_nats(port: int, subject: str, body: bytes) -> None:
    client = await nats.connect(f"nats://127.0.0.1:{port}")
    try:
        await client.jetstream().publish(subject, body)
    finally:
        await client.close()


async def test_nats_trigger_survives_the_server_coming_and_going(tmp_path: Path) -> None:
    port = free_port()
    item: dict[str, Any] = {
        "name": "orders",
        "nats": {"url": f"nats://127.0.0.1:{port}", "subject": "orders.created"},
    }
    trigger = build_trigger(item, reconnect=RECONNECT)
    sink = RecordingSink()
    await trigger.start(sink)  # the server is not running yet
    await eventually(lambda: trigger.status().error is not None)
    assert trigger.status().state is TriggerState.CONNECTING

    server = start_nats(port, tmp_path)
    try:
        await eventually(lambda: trigger.status().ready, timeout=10)
        await publish_nats(port, "orders.created", b'{"n": 1}')
        await eventually(lambda: len(sink.events) == 1)

        stop_process(server)  # the server goes away: not ready, no exception
        await eventually(lambda: not trigger.status().ready, timeout=10)

        server = start_nats(port, tmp_path)  # same store: the stream and consumer survive
        await eventually(lambda: trigger.status().ready, timeout=10)
        await publish_nats(port, "orders.created", b'{"n": 2}')
        await eventually(lambda: len(sink.events) == 2, timeout=10)
    finally:
        await trigger.stop()
        stop_process(server)
    assert [e["data"]["n"] for e in sink.events] == [1, 2]


async def test_kafka_trigger_connects_once_the_broker_starts(tmp_path: Path) -> None:
    port = free_port()
    bootstrap = f"127.0.0.1:{port}"
    item = {
        "name": "orders",
        "kafka": {"bootstrapServers": bootstrap, "topic": "orders", "sessionTimeout": "PT1S"},
    }
    trigger = build_trigger(item, reconnect=RECONNECT)
    sink = RecordingSink()
    await trigger.start(sink)
    await eventually(lambda: trigger.status().error is not None)
    assert not trigger.status().ready

    broker = start_tansu(port, tmp_path / "tansu.log")
    try:
        await eventually(lambda: trigger.status().ready, timeout=10)
        producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
        await producer.start()
        try:
            await producer.send_and_wait("orders", b'{"n": 1}')
        finally:
            await producer.stop()
        await eventually(lambda: len(sink.events) == 1, timeout=15)
    finally:
        await trigger.stop()
        stop_process(broker)
    assert sink.events[0]["id"].startswith("orders:")
