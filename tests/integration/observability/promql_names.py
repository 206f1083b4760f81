"""Which metric and label names the dashboards and rules use, checked against /metrics.

Every PromQL query of ``deploy/grafana/*.json`` (panel targets and ``label_values``
variables) and of ``deploy/prometheus/flowapp-rules.yaml`` is parsed (promql-parser,
after Grafana's variables are replaced by plain values), and each name it relies on is
looked up in what a live ``flowapp up`` exports:

- each selected metric must be exported (or be a series the rules record, or ``up``);
- each label it matches on must be one of that metric's labels;
- each label of ``by``/``without``, ``on``/``ignoring`` and ``group_left``/``group_right``
  must be a label of some series the expression reads there.

``job`` and ``instance`` are Prometheus's own target labels, on every scraped series.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import promql_parser as promql
from prometheus_client.parser import text_string_to_metric_families
from ruamel.yaml import YAML

TARGET_LABELS = frozenset({"job", "instance"})
# Prometheus's own series about a scrape.
SYNTHETIC = {"up": TARGET_LABELS}
_VARIABLE = re.compile(r"\$(\{[A-Za-z_]\w*\}|__\w+|[A-Za-z_]\w*)")
_DURATIONS = {"$__rate_interval": "5m", "$__interval": "1m", "$__range": "1h"}
_LABEL_VALUES = re.compile(r"^label_values\((?P<selector>.+),\s*(?P<label>\w+)\)$")

Exported = Mapping[str, frozenset[str]]  # sample name -> its label names


@dataclass
class Query:
    where: str  # "flowapp-app.json: Error rate by status class", "rule FlowappEngineDown"
    expr: str
    label: str | None = None  # label_values(selector, label): the label it lists


@dataclass
class Problems:
    found: list[str] = field(default_factory=list)

    def add(self, query: Query, message: str) -> None:
        self.found.append(f"{query.where}: {message}\n    {query.expr}")


def exported_names(text: str) -> dict[str, frozenset[str]]:
    """Sample names of a Prometheus text exposition and the labels each comes with."""
    names: dict[str, set[str]] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            names.setdefault(sample.name, set()).update(sample.labels)
    return {name: frozenset(labels | TARGET_LABELS) for name, labels in names.items()}


def dashboard_queries(path: Path) -> Iterator[Query]:
    board = json.loads(path.read_text())
    for variable in board.get("templating", {}).get("list", []):
        if variable.get("type") != "query":
            continue
        found = _LABEL_VALUES.match(variable["query"])
        assert found, f"{path.name}: variable {variable['name']} is not label_values(...)"
        where = f"{path.name}: variable ${variable['name']}"
        yield Query(where, found["selector"], label=found["label"])
    for panel in _panels(board["panels"]):
        for target in panel.get("targets", []):
            yield Query(f"{path.name}: {panel['title']}", target["expr"])


def _panels(panels: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for panel in panels:
        yield panel
        yield from _panels(panel.get("panels", []))


def rule_queries(path: Path) -> tuple[list[Query], dict[str, Query]]:
    """The alerts' queries, and the recording rules' by the name they record."""
    groups = YAML(typ="safe").load(path.read_text())["groups"]
    alerts, recorded = [], {}
    for group in groups:
        for rule in group["rules"]:
            if "record" in rule:
                recorded[rule["record"]] = Query(f"record {rule['record']}", rule["expr"])
            else:
                alerts.append(Query(f"alert {rule['alert']}", rule["expr"]))
    return alerts, recorded


def check(query: Query, exported: Exported, recorded: Mapping[str, Query]) -> list[str]:
    """What ``query`` names that ``exported`` (and the rules' recorded series) lack."""
    problems = Problems()
    known = dict(SYNTHETIC) | dict(exported)
    for name, source in recorded.items():
        known[name] = frozenset(_labels_out(_parse(source), known, problems, source)) | (
            TARGET_LABELS
        )
    expression = _parse(query)
    labels = _labels_out(expression, known, problems, query)
    if query.label is not None and query.label not in labels:
        problems.add(query, f"label_values lists `{query.label}`, which it does not have")
    return problems.found


def _parse(query: Query) -> Any:
    text = query.expr
    for variable, duration in _DURATIONS.items():
        text = text.replace(variable, duration)
    return promql.parse(_VARIABLE.sub("x", text))


def _labels_out(
    node: Any, known: Mapping[str, frozenset[str]], problems: Problems, query: Query
) -> set[str]:
    """The labels of the series ``node`` yields, reporting unknown names on the way."""
    if isinstance(node, promql.VectorSelector):
        return _selected(node, known, problems, query)
    if isinstance(node, promql.MatrixSelector):
        return _selected(node.vector_selector, known, problems, query)
    if isinstance(node, promql.ParenExpr | promql.UnaryExpr | promql.SubqueryExpr):
        return _labels_out(node.expr, known, problems, query)
    if isinstance(node, promql.Call):
        inner: set[str] = set()
        for argument in node.args:
            inner |= _labels_out(argument, known, problems, query)
        return inner - {"le"} if node.func.name == "histogram_quantile" else inner
    if isinstance(node, promql.AggregateExpr):
        inner = _labels_out(node.expr, known, problems, query)
        if node.param is not None:
            _labels_out(node.param, known, problems, query)
        modifier = node.modifier
        grouping = set(modifier.labels) if modifier is not None else set()
        _require(grouping, inner, problems, query, f"{node.op} by/without")
        if modifier is None:
            return set()
        if modifier.type == promql.AggModifierType.By:
            return grouping
        return inner - grouping
    if isinstance(node, promql.BinaryExpr):
        left = _labels_out(node.lhs, known, problems, query)
        right = _labels_out(node.rhs, known, problems, query)
        modifier = node.modifier
        if modifier is not None and modifier.matching is not None:
            _require(set(modifier.matching.labels), left | right, problems, query, "on/ignoring")
        if modifier is not None and modifier.group_labels:
            _require(set(modifier.group_labels), left | right, problems, query, "group_x")
        return left | right
    return set()  # numbers and strings


def _selected(
    selector: Any, known: Mapping[str, frozenset[str]], problems: Problems, query: Query
) -> set[str]:
    name = selector.name
    labels = known.get(name)
    if labels is None:
        problems.add(query, f"metric `{name}` is not exported")
        return set()
    matched = {matcher.name for matcher in selector.matchers.matchers}
    _require(matched, labels, problems, query, f"matcher of {name}")
    return set(labels)


def _require(
    names: set[str],
    available: set[str] | frozenset[str],
    problems: Problems,
    query: Query,
    what: str,
) -> None:
    for name in sorted(names - set(available)):
        problems.add(query, f"label `{name}` ({what}) is on no series it reads")
