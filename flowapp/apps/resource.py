"""The parts of a FlowApp resource around its workflow: header, metadata, triggers, delivery.

Each reader takes the plain data parsed from ``flowapp.yaml`` and appends ``Problem``
objects with absolute JSON pointers but no location; the loader locates them all at once
in the parsed file. Keys are read through ``flowapp.apps.keys.Keys``, so an unknown key
gets a "did you mean" hint; trigger items and ``delivery`` are parsed by their own
packages (``flowapp.triggers``, ``flowapp.events``) and their problems moved under
``/spec/triggers`` and ``/spec/delivery``.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from flowapp.apps.keys import Keys
from flowapp.apps.model import API_VERSION, DEFAULT_NAMESPACE, KIND
from flowapp.apps.names import dns_label_problem
from flowapp.dsl.problems import Problem, join_pointer
from flowapp.events.delivery import DeliverySpec, parse_delivery
from flowapp.events.errors import SpecError
from flowapp.triggers.base import TriggerConfig
from flowapp.triggers.config import parse_triggers

SPEC_KEYS = (
    "triggers",
    "functions",
    "workflow",
    "workflowRef",
    "delivery",
    "limits",
    "retention",
    "revision",
    "traffic",
)


@dataclass(frozen=True, slots=True)
class Header:
    """What the resource says outside ``spec``; ``spec`` is {} when missing or invalid."""

    name: str
    namespace: str
    labels: dict[str, str]
    spec: dict[str, Any]


def read_header(data: dict[str, Any], problems: list[Problem]) -> Header:
    """``apiVersion``, ``kind``, ``metadata``, and the keys present under ``spec``."""
    top = Keys(data, "", problems)
    _expect(top, "apiVersion", API_VERSION)
    _expect(top, "kind", KIND)
    metadata = top.mapping("metadata", required=True) or Keys({}, "/metadata", [])
    name = _label(metadata, "name", required=True)
    namespace = _label(metadata, "namespace", required=False) or DEFAULT_NAMESPACE
    labels = _labels(metadata.raw("labels"), problems)
    metadata.finish()
    spec = top.mapping("spec", required=True)
    if spec is not None:
        for key in SPEC_KEYS:
            spec.raw(key)
        spec.finish()
    top.finish()
    raw_spec = data.get("spec")
    return Header(name, namespace, labels, raw_spec if isinstance(raw_spec, dict) else {})


def _expect(fields: Keys, key: str, expected: str) -> None:
    value = fields.required(key)
    if value and value != expected:
        fields.problem(key, f"`{key}: {value}` is not supported: this is `{key}: {expected}`")


def _label(metadata: Keys, key: str, *, required: bool) -> str:
    value = metadata.required(key) if required else metadata.optional(key)
    if not value:
        return ""
    message = dns_label_problem(value, f"metadata.{key}")
    if message is not None:
        metadata.problem(key, message)
    return value


def _labels(value: Any, problems: list[Problem]) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        problems.append(Problem("/metadata/labels", "must be a mapping of label names to text"))
        return {}
    labels: dict[str, str] = {}
    for key, text in value.items():
        if isinstance(text, dict | list) or text is None:
            message = f"label `{key}` must be text, not a mapping, a list or null"
            problems.append(Problem(join_pointer("/metadata/labels", key), message))
        else:
            labels[key] = str(text)
    return labels


def read_triggers(
    value: Any, problems: list[Problem], *, app: str | None = None
) -> tuple[TriggerConfig, ...]:
    """``spec.triggers`` of ``app``; trigger problems come relative to the list and are
    moved under it."""
    if value is None:
        return ()
    if not isinstance(value, list):
        problems.append(Problem("/spec/triggers", "must be a list of triggers"))
        return ()
    configs, found = parse_triggers(value, app=app)
    problems += [Problem("/spec/triggers" + p.pointer, p.message) for p in found]
    return tuple(configs)


def read_delivery(value: Any, functions: Collection[str], problems: list[Problem]) -> DeliverySpec:
    """``spec.delivery``; a ``deadLetterSink`` may name one of the app's functions."""

    def function_named(name: str) -> str:
        if name not in functions:
            raise LookupError(name)
        return name

    try:
        return parse_delivery(value, pointer="/spec/delivery", resolve=function_named)
    except SpecError as error:
        problems += error.problems
        return DeliverySpec()
