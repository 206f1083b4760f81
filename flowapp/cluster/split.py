"""Whole executions split between an app's revisions, as ``flowapp up`` splits them.

Knative splits each call of a function by its Service's ``spec.traffic``; left at that, one
execution of a canary could call ``v2`` of one function and ``v1`` of the next, whose
data may no longer fit. So the engine is given the split too (``FLOWAPP_TRAFFIC``, which
the operator renders from ``spec.traffic``): for each revision its percent and each
function's address for that revision alone (the traffic tag's,
``http://<tag>-<service>.<namespace>.svc.cluster.local``)::

    [{"revision": "v1", "percent": 90, "tag": "stable",
      "urls": {"append": "http://stable-shop-append.default.svc.cluster.local", ...}}, ...]

A new execution is given one of these revisions by the percents (its workflow is
registered once per revision, so the execution record names it and every replica knows
it after a restart); all its calls then go to that revision's addresses. An execution
whose revision is no longer in the split (the canary ended) calls the Services' own
addresses, which Knative routes by the split in force.
"""

from __future__ import annotations

import json
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from flowapp.cluster.app import SettingsError


@dataclass(frozen=True, slots=True)
class RevisionRoute:
    revision: str
    percent: int
    urls: dict[str, str]


def parse_split(text: str, functions: Collection[str]) -> list[RevisionRoute]:
    """``FLOWAPP_TRAFFIC``'s routes; ``SettingsError`` saying what is wrong."""
    try:
        items = json.loads(text)
    except ValueError as exc:
        raise SettingsError(f"FLOWAPP_TRAFFIC is not JSON: {exc}") from None
    if not isinstance(items, list) or not items:
        raise SettingsError("FLOWAPP_TRAFFIC must be a non-empty JSON list of revisions")
    routes = [_route(item, index, functions) for index, item in enumerate(items)]
    if sum(route.percent for route in routes) != 100:
        raise SettingsError("FLOWAPP_TRAFFIC: the percents must add up to 100")
    if len({route.revision for route in routes}) != len(routes):
        raise SettingsError("FLOWAPP_TRAFFIC: a revision appears twice")
    return routes


def _route(item: Any, index: int, functions: Collection[str]) -> RevisionRoute:
    where = f"FLOWAPP_TRAFFIC[{index}]"
    if not isinstance(item, dict):
        raise SettingsError(f"{where} must be an object")
    revision, percent, urls = item.get("revision"), item.get("percent"), item.get("urls")
    if not isinstance(revision, str) or not revision:
        raise SettingsError(f"{where}.revision must be a revision's name")
    if isinstance(percent, bool) or not isinstance(percent, int) or not 0 <= percent <= 100:
        raise SettingsError(f"{where}.percent must be a whole number from 0 to 100")
    if not isinstance(urls, dict) or not all(isinstance(u, str) and u for u in urls.values()):
        raise SettingsError(f"{where}.urls must map functions to URLs")
    missing = sorted(set(functions) - set(urls))
    if missing:
        raise SettingsError(f"{where}.urls has no URL for {', '.join(missing)}")
    return RevisionRoute(revision, percent, {name: urls[name] for name in functions})
