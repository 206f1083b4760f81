"""``spec.revision`` and ``spec.traffic``: an app's revisions on a cluster, and the split of
new executions between them (a canary, a blue-green switch)::

    spec:
      revision: v2                 # this spec is the app's revision "v2"
      traffic:
        - {revision: v1, percent: 90, tag: stable}
        - {revision: v2, percent: 10, tag: canary}

On one machine an app's revisions are made by deploys and split with ``flowapp traffic``
(the API); on Kubernetes the FlowApp object is the whole truth, so it names its revision
itself, as Knative's own "bring your own revision name" does: each function's Knative
Service names its template ``<service>-<revision>``, so every function has a Knative
Revision per app revision, ``traffic`` becomes each Service's ``spec.traffic``
(``flowapp.operator.functions``) and the engine's split of executions
(``flowapp.cluster.split``). ``flowapp up`` ignores both keys.

Rules, checked here with pointers: a revision name is a DNS label of at most 12
characters (``<service>-<revision>`` and the tag's ``<tag>-<service>`` host must stay
63-character labels); ``traffic`` needs ``revision``; its percents are whole numbers
from 0 to 100 that add up to 100; revisions and tags are distinct. A tag (default: the
revision's name) gives that revision its own address.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from flowapp.apps.keys import Keys, kind_of
from flowapp.dsl.problems import Problem, join_pointer

REVISION_NAME = re.compile(r"[a-z0-9]([-a-z0-9]{0,10}[a-z0-9])?")
"""A DNS label of at most 12 characters: a revision's name and a traffic tag."""

TRAFFIC_KEYS = ("revision", "percent", "tag")
REVISION_POINTER = "/spec/revision"
TRAFFIC_POINTER = "/spec/traffic"
_NAME_RULES = "lowercase letters, digits and '-', at most 12 characters"


@dataclass(frozen=True, slots=True)
class TrafficTarget:
    revision: str
    percent: int
    tag: str


def read_revision(value: Any, problems: list[Problem]) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not REVISION_NAME.fullmatch(value):
        shown = repr(value) if isinstance(value, str) else kind_of(value)
        problems.append(
            Problem(REVISION_POINTER, f"a revision's name is {_NAME_RULES}, not {shown}")
        )
        return None
    return value


def read_traffic(
    value: Any, revision: str | None, problems: list[Problem]
) -> tuple[TrafficTarget, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not value:
        message = f"must be a non-empty list of {{revision, percent}}, not {kind_of(value)}"
        problems.append(Problem(TRAFFIC_POINTER, message))
        return ()
    before = len(problems)
    targets = [
        _target(item, join_pointer(TRAFFIC_POINTER, i), problems) for i, item in enumerate(value)
    ]
    if len(problems) > before:
        return ()
    found = [t for t in targets if t is not None]
    _check_split(found, revision, problems)
    return tuple(found) if len(problems) == before else ()


def _target(item: Any, pointer: str, problems: list[Problem]) -> TrafficTarget | None:
    keys = Keys(item, pointer, problems)
    name = keys.required("revision")
    percent = keys.integer("percent", default=-1, minimum=0, maximum=100)
    if keys.valid and not keys.has("percent"):
        keys.problem(None, "missing required key `percent`")
    tag = keys.optional("tag")
    keys.finish()
    for key, text in (("revision", name), ("tag", tag)):
        if text and not REVISION_NAME.fullmatch(text):
            keys.problem(key, f"`{key}` is {_NAME_RULES}, not {text!r}")
            return None
    if not name or percent < 0:
        return None
    return TrafficTarget(name, percent, tag or name)


def _check_split(
    targets: list[TrafficTarget], revision: str | None, problems: list[Problem]
) -> None:
    if revision is None:
        problems.append(
            Problem(TRAFFIC_POINTER, "`traffic` needs `spec.revision`: name this revision")
        )
    total = sum(t.percent for t in targets)
    if total != 100:
        problems.append(Problem(TRAFFIC_POINTER, f"the percents add up to {total}, not 100"))
    for what, values in (
        ("revision", [t.revision for t in targets]),
        ("tag", [t.tag for t in targets]),
    ):
        repeated = sorted({v for v in values if values.count(v) > 1})
        if repeated:
            message = f"each {what} may appear once: {', '.join(repeated)} appear(s) more often"
            problems.append(Problem(TRAFFIC_POINTER, message))
