"""Knative Trigger filters: which events a subscription receives. Pure: no I/O.

Two dialects, as on a Knative Trigger:

- ``filter: {attributes: {type: a, source: b}}`` (classic): every listed attribute must be
  present and equal; the value ``""`` accepts any value of a present attribute.
- ``filters: [...]`` (the CloudEvents Subscriptions API dialect): a list of expressions that
  must all hold; each expression is exactly one of ``exact``, ``prefix``, ``suffix``
  (each a single ``{attribute: value}`` pair), ``all``, ``any`` (non-empty lists of
  expressions) or ``not`` (one expression). When ``filters`` is given, ``filter`` is
  ignored (Knative's rule). ``cesql`` is not supported and is refused at parse time.

A missing attribute never matches (so ``not`` of it does). Attribute values are compared
in their canonical string form, so an integer extension ``3`` equals the text ``"3"``.
Parsing gathers every problem with the JSON pointer where it was found and raises one
``SpecError``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from flowapp.dsl.problems import Problem, join_pointer
from flowapp.events.cloudevents import attribute_text
from flowapp.events.errors import SpecError

_ATTRIBUTE_NAME = re.compile(r"^[a-z][a-z0-9]*$")
_PAYLOAD_KEYS = frozenset({"data", "data_base64"})
_DIALECTS = ("exact", "prefix", "suffix", "all", "any", "not")


@dataclass(frozen=True, slots=True)
class MatchAll:
    """No filter: every event passes."""


@dataclass(frozen=True, slots=True)
class Attributes:
    """Classic ``filter.attributes``: all pairs equal; ``""`` means any value."""

    pairs: tuple[tuple[str, str], ...]


@dataclass(frozen=True, slots=True)
class Exact:
    attribute: str
    value: str


@dataclass(frozen=True, slots=True)
class Prefix:
    attribute: str
    value: str


@dataclass(frozen=True, slots=True)
class Suffix:
    attribute: str
    value: str


@dataclass(frozen=True, slots=True)
class AllOf:
    filters: tuple[Filter, ...]


@dataclass(frozen=True, slots=True)
class AnyOf:
    filters: tuple[Filter, ...]


@dataclass(frozen=True, slots=True)
class Not:
    filter: Filter


Filter = MatchAll | Attributes | Exact | Prefix | Suffix | AllOf | AnyOf | Not
MATCH_ALL = MatchAll()
_COMPARISONS: dict[str, type[Exact] | type[Prefix] | type[Suffix]] = {
    "exact": Exact,
    "prefix": Prefix,
    "suffix": Suffix,
}


# --- matching ------------------------------------------------------------------------


def attribute(event: Mapping[str, Any], name: str) -> str | None:
    """An attribute's canonical text, or None when the event does not have it."""
    if name in _PAYLOAD_KEYS:
        return None
    value = event.get(name)
    return None if value is None else attribute_text(value)


def matches(filter: Filter, event: Mapping[str, Any]) -> bool:
    """Whether ``event`` passes ``filter``."""
    match filter:
        case MatchAll():
            return True
        case Attributes(pairs):
            return all(_attribute_matches(event, name, wanted) for name, wanted in pairs)
        case Exact(name, value):
            return attribute(event, name) == value
        case Prefix(name, value):
            actual = attribute(event, name)
            return actual is not None and actual.startswith(value)
        case Suffix(name, value):
            actual = attribute(event, name)
            return actual is not None and actual.endswith(value)
        case AllOf(filters):
            return all(matches(f, event) for f in filters)
        case AnyOf(filters):
            return any(matches(f, event) for f in filters)
        case Not(inner):
            return not matches(inner, event)
    raise TypeError(f"not a filter: {filter!r}")


def _attribute_matches(event: Mapping[str, Any], name: str, wanted: str) -> bool:
    actual = attribute(event, name)
    return actual is not None and (wanted == "" or actual == wanted)


# --- parsing -------------------------------------------------------------------------


def parse_trigger_filter(spec: Mapping[str, Any], *, pointer: str = "") -> Filter:
    """The filter of a Trigger-like spec: its ``filters`` list, else ``filter.attributes``."""
    problems: list[Problem] = []
    filters, classic = spec.get("filters"), spec.get("filter")
    if filters:
        result = _expressions(filters, join_pointer(pointer, "filters"), problems)
    elif classic is not None:
        result = _classic(classic, join_pointer(pointer, "filter"), problems)
    else:
        result = MATCH_ALL
    _raise_if(problems)
    return result


def parse_filters(expressions: Any, *, pointer: str = "/filters") -> Filter:
    """A ``filters`` list (Subscriptions API dialect); all its expressions must hold."""
    problems: list[Problem] = []
    result = _expressions(expressions, pointer, problems)
    _raise_if(problems)
    return result


def parse_attributes(spec: Any, *, pointer: str = "/filter") -> Filter:
    """A classic ``filter`` object: ``{attributes: {name: value}}``."""
    problems: list[Problem] = []
    result = _classic(spec, pointer, problems)
    _raise_if(problems)
    return result


def _raise_if(problems: list[Problem]) -> None:
    if problems:
        raise SpecError(problems)


def _classic(spec: Any, pointer: str, problems: list[Problem]) -> Filter:
    if not isinstance(spec, Mapping):
        problems.append(Problem(pointer, "must be an object with `attributes`"))
        return MATCH_ALL
    for key in spec:
        if key != "attributes":
            problems.append(
                Problem(join_pointer(pointer, key), "unknown key; expected `attributes`")
            )
    values = spec.get("attributes") or {}
    where = join_pointer(pointer, "attributes")
    if not isinstance(values, Mapping):
        problems.append(Problem(where, "must be an object of attribute names to values"))
        return MATCH_ALL
    pairs = [
        _pair(name, value, where, problems, allow_empty=True) for name, value in values.items()
    ]
    return Attributes(tuple(pairs)) if pairs else MATCH_ALL


def _expressions(items: Any, pointer: str, problems: list[Problem]) -> Filter:
    if not isinstance(items, Sequence) or isinstance(items, (str, bytes)):
        problems.append(Problem(pointer, "must be a list of filter expressions"))
        return MATCH_ALL
    parsed = tuple(
        _expression(item, join_pointer(pointer, index), problems)
        for index, item in enumerate(items)
    )
    return parsed[0] if len(parsed) == 1 else AllOf(parsed) if parsed else MATCH_ALL


def _expression(spec: Any, pointer: str, problems: list[Problem]) -> Filter:
    if not isinstance(spec, Mapping) or len(spec) != 1:
        problems.append(Problem(pointer, f"must be an object with exactly one of {_one_of()}"))
        return MATCH_ALL
    dialect, value = next(iter(spec.items()))
    where = join_pointer(pointer, dialect)
    if dialect in ("exact", "prefix", "suffix"):
        return _comparison(dialect, value, where, problems)
    if dialect in ("all", "any"):
        return _combination(dialect, value, where, problems)
    if dialect == "not":
        return Not(_expression(value, where, problems))
    message = "CESQL filters are not supported" if dialect in ("cesql", "sql") else "unknown"
    problems.append(Problem(where, f"{message}; expected one of {_one_of()}"))
    return MATCH_ALL


def _comparison(dialect: str, spec: Any, pointer: str, problems: list[Problem]) -> Filter:
    if not isinstance(spec, Mapping) or len(spec) != 1:
        problems.append(Problem(pointer, "must hold exactly one `attribute: value` pair"))
        return MATCH_ALL
    name, value = _pair(*next(iter(spec.items())), pointer, problems, allow_empty=False)
    return _COMPARISONS[dialect](name, value)


def _combination(dialect: str, spec: Any, pointer: str, problems: list[Problem]) -> Filter:
    if not isinstance(spec, Sequence) or isinstance(spec, (str, bytes)) or not spec:
        problems.append(Problem(pointer, "must be a non-empty list of filter expressions"))
        return MATCH_ALL
    parsed = tuple(
        _expression(item, join_pointer(pointer, index), problems) for index, item in enumerate(spec)
    )
    return AllOf(parsed) if dialect == "all" else AnyOf(parsed)


def _pair(
    name: Any, value: Any, pointer: str, problems: list[Problem], *, allow_empty: bool
) -> tuple[str, str]:
    where = join_pointer(pointer, str(name))
    if not isinstance(name, str) or not _ATTRIBUTE_NAME.match(name):
        problems.append(
            Problem(where, "attribute names start with a letter and hold only a-z and 0-9")
        )
    if not isinstance(value, str):
        problems.append(Problem(where, f"value must be a string, not {type(value).__name__}"))
        return str(name), ""
    if not value and not allow_empty:
        problems.append(Problem(where, "value must not be empty"))
    return str(name), value


def _one_of() -> str:
    return ", ".join(f"`{d}`" for d in _DIALECTS)
