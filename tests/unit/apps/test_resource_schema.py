"""The resource model (``flowapp.apps.schema``, which the CRD is made of) and the readers of
``flowapp.yaml`` declare the same keys, everywhere, both ways.

A complete FlowApp (every key the schema declares, with valid values) is loaded while
recording, for each mapping the readers read, the keys they know; each such set must be
exactly the keys the schema declares at that place. A key added to a reader but not to
the model (or the reverse) fails here, so the CRD cannot drift from the loader.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from flowapp.apps import keys as app_keys
from flowapp.apps.loader import load_app
from flowapp.apps.schema import resource_schema
from flowapp.triggers import fields as trigger_fields
from tests.k8s.schemas import problems

DEAD_LETTERS = {
    "nats": {"subject": "dead.orders", "stream": "DEAD"},
    "rabbitmq": {"queue": "dead", "routingKey": "dead"},
    "redis": {"stream": "dead"},
    "mqtt": {"topic": "dead/orders"},
    "kafka": {"topic": "dead"},
    "rocketmq": {"topic": "dead"},
}
COMMON = {
    "maxInFlight": 4,
    "maxRedeliveries": 2,
    "maxBytes": 1000,
    "read": "envelope",
    "nonJson": "base64",
    "type": "com.example.x",
    "backoffPolicy": "linear",
    "backoffDelay": "PT2S",
}
BODIES: dict[str, dict[str, Any]] = {
    "nats": {
        "url": "nats://n:4222",
        "subject": "orders",
        "stream": "ORDERS",
        "durable": "d",
        "createStream": False,
        "ackWait": "PT5S",
    },
    "rabbitmq": {
        "url": "amqp://r",
        "queue": "q",
        "queueType": "classic",
        "exchange": "x",
        "exchangeType": "direct",
        "routingKey": "k",
        "declare": False,
    },
    "redis": {
        "url": "redis://r",
        "stream": "s",
        "group": "g",
        "consumer": "c",
        "startFrom": "latest",
        "claimIdle": "PT5S",
        "dataField": "d",
    },
    "mqtt": {
        "url": "mqtt://m",
        "topic": "orders/#",
        "clientId": "c",
        "sessionExpiry": "PT60S",
        "idProperty": "id",
    },
    "kafka": {
        "bootstrapServers": ["k:9092"],
        "topic": "t",
        "group": "g",
        "startFrom": "latest",
        "sessionTimeout": "PT10S",
    },
    "rocketmq": {
        "endpoints": "r:8081",
        "topic": "t",
        "group": "g",
        "tag": "a",
        "invisibleDuration": "PT30S",
        "awaitDuration": "PT5S",
        "namespace": "n",
    },
}
# cron and http hold keys that exclude each other: each alternative is loaded once.
CRONS = [
    {"schedule": "0 2 * * *", "timezone": "UTC", "catchUp": "all", "catchUpLimit": 3, "data": 1},
    {"every": "PT1M"},
]
HTTP_SECRETS = [
    {"type": "token", "header": "X-T", "prefix": "t ", "value": "v"},
    {"type": "hmac-sha256", "env": "HOOK_SECRET"},
]
CRON_COMMON = {k: COMMON[k] for k in ("type", "maxRedeliveries", "backoffPolicy", "backoffDelay")}
HTTP_COMMON = {k: COMMON[k] for k in ("type", "maxBytes", "read", "nonJson")}


def complete_resource(variant: int) -> dict[str, Any]:
    triggers: list[dict[str, Any]] = [
        {"name": f"t-{kind}", kind: body, **COMMON, "deadLetter": DEAD_LETTERS[kind]}
        for kind, body in BODIES.items()
    ]
    triggers.append({"name": "t-cron", "cron": CRONS[variant], **CRON_COMMON})
    http = {
        "path": "/hooks/x",
        "mode": "sync",
        "methods": ["POST"],
        "idHeaders": ["X-Id"],
        "secret": HTTP_SECRETS[variant],
    }
    triggers.append({"name": "t-http", "http": http, **HTTP_COMMON})
    function = {
        "runtime": "command",
        "path": "functions/f",
        "command": "./serve",
        "image": "reg/f:1",
        "env": {"A": "1"},
        "scale": {"min": 0, "max": 2, "concurrency": 3},
        "timeout": "PT5S",
        "idlePeriod": "PT5S",
        "startupTimeout": "PT5S",
    }
    return {
        "apiVersion": "flowapp.dev/v1alpha1",
        "kind": "FlowApp",
        "metadata": {"name": "complete", "namespace": "ns", "labels": {"team": "a"}},
        "spec": {
            "triggers": triggers,
            "functions": {"f": function},
            "workflow": {
                "document": {"dsl": "1.0.3", "namespace": "ns", "name": "c", "version": "1.0.0"},
                "do": [{"step": {"call": "f"}}],
            },
            "delivery": {
                "retry": 1,
                "backoffPolicy": "linear",
                "backoffDelay": "PT1S",
                "timeout": "PT3S",
                "deadLetterSink": "f",
            },
            "limits": {"taskRuns": 9, "forItems": 9, "stateSize": "2Mi", "cpuTime": "PT9S"},
            "revision": "v2",
            "traffic": [
                {"revision": "v1", "percent": 90, "tag": "stable"},
                {"revision": "v2", "percent": 10},
            ],
        },
    }


def declared_keys(schema: dict[str, Any], pointer: str) -> set[str]:
    """The keys the schema declares for the mapping at ``pointer`` of the resource."""
    node = schema
    for part in [p for p in pointer.split("/") if p]:
        if node.get("type") == "array":
            node = node["items"]
        elif "properties" in node and part in node["properties"]:
            node = node["properties"][part]
        else:
            node = node["additionalProperties"]
    return set(node.get("properties", {}))


def _record(monkeypatch: pytest.MonkeyPatch) -> dict[tuple[str, str], set[str]]:
    """(reader, pointer) -> keys known. ``Keys`` pointers are absolute; ``Fields`` ones are
    relative to a trigger item, so every item's keys gather under the same pointers."""
    seen: dict[tuple[str, str], set[str]] = {}
    for cls in (app_keys.Keys, trigger_fields.Fields):
        original = cls.finish

        def finish(self: Any, original: Any = original, reader: str = cls.__name__) -> None:
            seen.setdefault((reader, self.pointer), set()).update(self._known)
            original(self)

        monkeypatch.setattr(cls, "finish", finish)
    return seen


def _at(schema: dict[str, Any], *path: str) -> dict[str, Any]:
    for part in path:
        schema = schema["items"] if part == "[]" else schema["properties"][part]
    return schema


@pytest.mark.parametrize("variant", [0, 1])
def test_the_readers_know_exactly_the_keys_the_model_declares(
    variant: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    resource = complete_resource(variant)
    assert problems(resource) == [], "the complete resource must pass the CRD's schema"
    (tmp_path / "functions" / "f").mkdir(parents=True)
    (tmp_path / "flowapp.yaml").write_text(yaml.safe_dump(resource))
    seen = _record(monkeypatch)
    load_app(tmp_path)  # valid: every key is one the readers know
    schema = resource_schema()
    item = _at(schema, "spec", "triggers", "[]")
    expected = {
        ("Keys", ""): set(schema["properties"]),
        ("Keys", "/metadata"): set(_at(schema, "metadata")["properties"]),
        ("Keys", "/spec"): set(_at(schema, "spec")["properties"]),
        ("Keys", "/spec/functions/f"): declared_keys(schema, "/spec/functions/f"),
        ("Keys", "/spec/functions/f/scale"): declared_keys(schema, "/spec/functions/f/scale"),
        ("Keys", "/spec/limits"): declared_keys(schema, "/spec/limits"),
        ("Keys", "/spec/traffic/0"): declared_keys(schema, "/spec/traffic/0"),
        ("Keys", "/spec/traffic/1"): declared_keys(schema, "/spec/traffic/1"),
        ("Fields", ""): set(item["properties"]),
        ("Fields", "/deadLetter"): set(item["properties"]["deadLetter"]["properties"]),
        ("Fields", "/http/secret"): set(_at(item, "http", "secret")["properties"]),
    }
    expected |= {
        ("Fields", f"/{kind}"): set(item["properties"][kind]["properties"])
        for kind in (*BODIES, "cron", "http")
    }
    if variant == 0:  # `every` is read only when present: the other variant has it
        expected[("Fields", "/cron")] -= {"every"}
    else:
        expected[("Fields", "/cron")] = {
            "schedule",
            "every",
            "timezone",
            "catchUp",
            "catchUpLimit",
            "data",
        }
    assert seen == expected
    for kind, body in BODIES.items():
        assert set(body) == set(item["properties"][kind]["properties"]), f"{kind}: not complete"
