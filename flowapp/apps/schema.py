"""The FlowApp resource as a structural JSON Schema: what the Kubernetes CRD is made of.

``flowapp.yaml`` is validated by the readers (``resource``, ``functions``,
``flowapp.triggers``, ``flowapp.events.delivery``), which give the best messages; this
module states the same shape declaratively, from the same constants the readers use (the
runtimes, the trigger kinds and their common keys, the delivery keys, the name patterns,
the scale bounds), so that a cluster refuses at admission what the loader would refuse.
``tests/unit/apps/test_resource_schema.py`` keeps the two in step: it records every key
each reader reads and compares them with the keys declared here, both ways.

Kubernetes wants a *structural* schema: one type per node, no ``$ref``. So:

- values the loader accepts in several JSON types (durations: seconds, ISO 8601 text or
  ``{seconds: 30}``; environment values: text, numbers or booleans; a trigger's ``data``)
  are nodes that keep whatever they hold (``x-kubernetes-preserve-unknown-fields``), and
  the operator's loader check reports what is wrong with them;
- the workflow keeps its own fields too (its schema is recursive); its ``document`` is the
  official Serverless Workflow schema's, and ``do`` is required, as the official schema says.

On the cluster a function also names its container image (``image``); locally it is
ignored, since ``flowapp up`` runs the function's folder.
"""

from __future__ import annotations

import functools
from importlib import resources
from typing import Any

from ruamel.yaml import YAML

from flowapp.apps.functions import DURATION_KEYS, SCALE_BOUNDS
from flowapp.apps.limits import LIMIT_KEYS, MAX_FOR_ITEMS, MAX_TASK_RUNS
from flowapp.apps.names import DNS_LABEL, FUNCTION_NAME
from flowapp.apps.resource import SPEC_KEYS
from flowapp.apps.traffic import REVISION_NAME, TRAFFIC_KEYS
from flowapp.events.delivery import DELIVERY_KEYS
from flowapp.functions.spec import RUNTIMES
from flowapp.triggers.config import BROKER_KEYS, KINDS, NAME

Schema = dict[str, Any]

ANY: Schema = {"x-kubernetes-preserve-unknown-fields": True}
STRING: Schema = {"type": "string", "minLength": 1}
BOOLEAN: Schema = {"type": "boolean"}


def anchored(pattern: str) -> str:
    """A ``re.fullmatch`` pattern as JSON Schema's unanchored ``pattern``."""
    return f"^(?:{pattern})$"


def integer(minimum: int, maximum: int | None = None) -> Schema:
    schema: Schema = {"type": "integer", "minimum": minimum}
    if maximum is not None:
        schema["maximum"] = maximum
    return schema


def choice(*options: str) -> Schema:
    return {"type": "string", "enum": list(options)}


def obj(properties: dict[str, Schema], *, required: tuple[str, ...] = ()) -> Schema:
    schema: Schema = {"type": "object", "properties": properties}
    if required:
        schema["required"] = list(required)
    return schema


def strings() -> Schema:
    """A string or a non-empty list of strings (``url: [a, b]``)."""
    return {**ANY, "description": "a string or a non-empty list of strings"}


DURATION: Schema = {**ANY, "description": "seconds, ISO 8601 (PT30S) or {seconds: 30}"}


# --- spec.functions ----------------------------------------------------------------------


def function_schema() -> Schema:
    scale = {key: integer(low, high) for key, (low, high) in SCALE_BOUNDS.items()}
    properties: dict[str, Schema] = {
        "runtime": choice(*RUNTIMES),
        "path": STRING,
        "command": STRING,
        "image": {**STRING, "description": "the container image serving it on Kubernetes"},
        "env": {"type": "object", "additionalProperties": ANY},
        "scale": obj(scale),
    }
    properties |= {key: DURATION for key in DURATION_KEYS}
    return obj(properties)


# --- spec.triggers -----------------------------------------------------------------------

_TRIGGER_BODIES: dict[str, Schema] = {
    "nats": obj(
        {
            "url": strings(),
            "subject": STRING,
            "stream": STRING,
            "durable": STRING,
            "createStream": BOOLEAN,
            "ackWait": DURATION,
        },
        required=("subject",),
    ),
    "rabbitmq": obj(
        {
            "url": STRING,
            "queue": STRING,
            "queueType": choice("quorum", "classic"),
            "exchange": STRING,
            "exchangeType": choice("direct", "fanout", "topic", "headers"),
            "routingKey": STRING,
            "declare": BOOLEAN,
        }
    ),
    "redis": obj(
        {
            "url": STRING,
            "stream": STRING,
            "group": STRING,
            "consumer": STRING,
            "startFrom": choice("earliest", "latest"),
            "claimIdle": DURATION,
            "dataField": STRING,
        },
        required=("stream",),
    ),
    "mqtt": obj(
        {
            "url": STRING,
            "topic": STRING,
            "clientId": STRING,
            "sessionExpiry": DURATION,
            "idProperty": STRING,
        },
        required=("topic",),
    ),
    "kafka": obj(
        {
            "bootstrapServers": strings(),
            "topic": STRING,
            "group": STRING,
            "startFrom": choice("earliest", "latest"),
            "sessionTimeout": DURATION,
        },
        required=("topic",),
    ),
    "rocketmq": obj(
        {
            "endpoints": STRING,
            "topic": STRING,
            "group": STRING,
            "tag": STRING,
            "invisibleDuration": DURATION,
            "awaitDuration": DURATION,
            "namespace": {"type": "string"},
        },
        required=("topic",),
    ),
    "cron": obj(
        {
            "schedule": STRING,
            "every": DURATION,
            "timezone": STRING,
            "catchUp": choice("once", "none", "all"),
            "catchUpLimit": integer(1, 1000),
            "data": ANY,
        }
    )
    | {"oneOf": [{"required": ["schedule"]}, {"required": ["every"]}]},
    "http": obj(
        {
            "path": STRING,
            "mode": choice("async", "sync"),
            "methods": strings(),
            "idHeaders": strings(),
            "public": BOOLEAN,
            "secret": obj(
                {
                    "type": choice("token", "hmac-sha256"),
                    "header": STRING,
                    "prefix": {"type": "string"},
                    "value": STRING,
                    "env": STRING,
                }
            ),
        },
        required=("path",),
    ),
}

_DEAD_LETTERS: dict[str, Schema] = {
    "nats": obj({"subject": STRING, "stream": STRING}),
    "rabbitmq": obj({"queue": STRING, "exchange": STRING, "routingKey": STRING}),
    "redis": obj({"stream": STRING}),
    "mqtt": obj({"topic": STRING}),
    "kafka": obj({"topic": STRING}),
    "rocketmq": obj({"topic": STRING}),
}

_COMMON: dict[str, Schema] = {
    "maxInFlight": integer(1, 10_000),
    "maxRedeliveries": integer(0, 1000),
    "maxBytes": integer(1),
    "read": choice("data", "envelope"),
    "nonJson": choice("text", "base64"),
    "type": STRING,
    "backoffPolicy": choice("exponential", "linear"),
    "backoffDelay": DURATION,
}


def trigger_schema() -> Schema:
    """One trigger item: a name and exactly one kind (``oneOf`` is value validation only:
    the kinds are declared once under ``properties``, as structural schemas require)."""
    common = {key: _COMMON[key] for key in sorted(BROKER_KEYS - {"deadLetter"})}
    properties: dict[str, Schema] = {
        "name": {"type": "string", "pattern": anchored(NAME)},
        **common,
        **{kind: _TRIGGER_BODIES[kind] for kind in KINDS},
        "deadLetter": {
            "type": "object",
            "description": "the kind's dead-letter destination (see docs/triggers.md)",
            "properties": _merged_dead_letters(),
        },
    }
    schema = obj(properties, required=("name",))
    schema["oneOf"] = [_one_kind(kind) for kind in KINDS]
    return schema


def _one_kind(kind: str) -> Schema:
    """This kind's key, and none of the common keys that do not apply to it."""
    rule: Schema = {"required": [kind]}
    refused = sorted(BROKER_KEYS - KINDS[kind].common)
    if refused:
        rule["not"] = {"anyOf": [{"required": [key]} for key in refused]}
    return rule


def _merged_dead_letters() -> dict[str, Schema]:
    merged: dict[str, Schema] = {}
    for body in _DEAD_LETTERS.values():
        merged |= body["properties"]
    return merged


def dead_letter_keys(kind: str) -> frozenset[str]:
    """The keys of ``deadLetter`` a kind accepts (none for cron and http)."""
    return frozenset(_DEAD_LETTERS.get(kind, {"properties": {}})["properties"])


def trigger_body_keys(kind: str) -> frozenset[str]:
    return frozenset(_TRIGGER_BODIES[kind]["properties"])


def common_keys(kind: str) -> frozenset[str]:
    """The common keys a kind accepts, ``deadLetter`` included where it applies."""
    return KINDS[kind].common


# --- spec.delivery, spec.limits and spec.workflow ---------------------------------------


def delivery_schema() -> Schema:
    properties: dict[str, Schema] = {
        "retry": integer(0),
        "backoffPolicy": choice("exponential", "linear"),
        "backoffDelay": STRING,
        "timeout": STRING,
        "deadLetterSink": ANY,
    }
    assert set(properties) == set(DELIVERY_KEYS), "delivery keys changed: update this schema"
    return obj(properties)


def limits_schema() -> Schema:
    properties: dict[str, Schema] = {
        "taskRuns": integer(1, MAX_TASK_RUNS),
        "forItems": integer(0, MAX_FOR_ITEMS),
        "stateSize": {**ANY, "description": "bytes: a number, or text with Ki, Mi or Gi"},
        "cpuTime": DURATION,
    }
    assert set(properties) == set(LIMIT_KEYS), "limit keys changed: update this schema"
    return obj(properties)


REVISION: Schema = {
    "type": "string",
    "pattern": anchored(REVISION_NAME.pattern),
    "description": "a DNS label of at most 12 characters",
}


def traffic_schema() -> Schema:
    """``spec.traffic``; that the percents add up to 100 is the loader's to say."""
    properties: dict[str, Schema] = {
        "revision": REVISION,
        "percent": integer(0, 100),
        "tag": REVISION,
    }
    assert set(properties) == set(TRAFFIC_KEYS), "traffic keys changed: update this schema"
    item = obj(properties, required=("revision", "percent"))
    return {"type": "array", "minItems": 1, "items": item}


@functools.cache
def _official_workflow() -> Schema:
    text = resources.files("flowapp.dsl").joinpath("schema/workflow.yaml").read_text("utf-8")
    loaded: Schema = YAML(typ="safe", pure=True).load(text)
    return loaded


def structural(schema: Any) -> Schema:
    """A plain, ``$ref``-free node of the official schema as a structural schema node."""
    if not isinstance(schema, dict) or "type" not in schema:
        return dict(ANY)
    node: Schema = {"type": schema["type"]}
    for key in ("description", "pattern", "enum", "minimum", "maximum", "minLength"):
        if key in schema:
            node[key] = schema[key].strip() if key == "pattern" else schema[key]
    if schema.get("additionalProperties") is True:
        node["x-kubernetes-preserve-unknown-fields"] = True
    if "properties" in schema:
        node["properties"] = {k: structural(v) for k, v in schema["properties"].items()}
    if "required" in schema:
        node["required"] = list(schema["required"])
    return node


def workflow_schema() -> Schema:
    official = _official_workflow()
    return {
        "type": "object",
        "description": "a Serverless Workflow 1.0 document",
        "x-kubernetes-preserve-unknown-fields": True,
        "required": list(official["required"]),
        "properties": {"document": structural(official["properties"]["document"])},
    }


# --- the resource --------------------------------------------------------------------------


def spec_schema() -> Schema:
    properties: dict[str, Schema] = {
        "triggers": {"type": "array", "items": trigger_schema()},
        "functions": {
            "type": "object",
            "additionalProperties": function_schema(),
            "description": "function name (an RFC 1035 label) to settings",
        },
        "workflow": workflow_schema(),
        "workflowRef": STRING,
        "delivery": delivery_schema(),
        "limits": limits_schema(),
        "retention": {
            **DURATION,
            "description": "how long finished executions are kept: " + DURATION["description"],
        },
        "revision": REVISION,
        "traffic": traffic_schema(),
    }
    assert set(properties) == set(SPEC_KEYS), "spec keys changed: update this schema"
    schema = obj(properties)
    schema["oneOf"] = [{"required": ["workflow"]}, {"required": ["workflowRef"]}]
    return schema


def resource_schema() -> Schema:
    """The whole FlowApp (``apiVersion``, ``kind``, ``metadata``, ``spec``), as in
    ``flowapp.yaml``; the CRD adds ``status``."""
    metadata = obj(
        {
            "name": {"type": "string", "pattern": anchored(DNS_LABEL.pattern)},
            "namespace": {"type": "string", "pattern": anchored(DNS_LABEL.pattern)},
            "labels": {"type": "object", "additionalProperties": {"type": "string"}},
        },
        required=("name",),
    )
    return obj(
        {
            "apiVersion": {"type": "string"},
            "kind": {"type": "string"},
            "metadata": metadata,
            "spec": spec_schema(),
        },
        required=("apiVersion", "kind", "metadata", "spec"),
    )


FUNCTION_NAME_PATTERN = anchored(FUNCTION_NAME.pattern)
