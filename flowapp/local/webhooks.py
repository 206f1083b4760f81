"""Webhook paths belong to the platform, one app each.

Every app's ``http`` triggers are served under the same ``/hooks/`` prefix, so a path is
a platform-wide name: if two apps could declare ``/hooks/orders``, the one registered
first would get the other's payloads. A path is held by the app that declares it in its
resource as last checked (create, replace, upload, an editor's commit) or in a revision
that serves traffic; another app that claims it is refused with a 409 naming the holder,
whether it creates, replaces, uploads or deploys (``check_webhook_paths``). The paths
checked are those of the resource as it runs here, with the platform's environment's
``config/<env>.yaml`` merged in, since an environment may move a trigger's path.

At start-up (and after each deploy) ``WebhookRoutes`` decides which app a request for a
path goes to. Apps claim their paths oldest first, so when data from before this rule
holds two apps with one path, the app that had it first keeps it; the other's trigger
is reported as not ready, with the holder named, and the log gets one line.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from flowapp.dsl.problems import Problem, join_pointer
from flowapp.server import platform as p
from flowapp.store.platform.port import AppStore

log = logging.getLogger(__name__)


def webhook_paths(resource: Mapping[str, Any]) -> dict[str, str]:
    """``path -> JSON pointer`` of every ``http`` trigger's path a resource declares."""
    spec = resource.get("spec")
    triggers = spec.get("triggers") if isinstance(spec, dict) else None
    paths: dict[str, str] = {}
    for index, item in enumerate(triggers if isinstance(triggers, list) else []):
        http = item.get("http") if isinstance(item, dict) else None
        path = http.get("path") if isinstance(http, dict) else None
        if isinstance(path, str):
            paths.setdefault(path, join_pointer("/spec/triggers", index, "http", "path"))
    return paths


def held_paths(store: AppStore, app: str, resource: Mapping[str, Any]) -> set[str]:
    """The paths ``app`` holds: its resource's and those of its revisions with traffic.
    Blocking (store reads): call it in a thread."""
    held = set(webhook_paths(resource))
    for revision_id, percent in store.get_traffic(app):
        revision = store.get_revision(revision_id) if percent > 0 else None
        if revision is not None:
            held |= set(webhook_paths(revision.resource))
    return held


def check_webhook_paths(store: AppStore, app: str, resource: Mapping[str, Any]) -> None:
    """``Conflict`` (409) if another app holds a webhook path ``resource`` declares.
    Blocking (store reads): call it in a thread."""
    wanted = webhook_paths(resource)
    if not wanted:
        return
    for other in store.list_apps():
        if other.name == app:
            continue
        taken = sorted(set(wanted) & held_paths(store, other.name, other.resource))
        if taken:
            message = f"webhook path {taken[0]} is held by app {other.name}: choose another path"
            problems = [Problem(wanted[path], _held(path, other.name)) for path in taken]
            raise p.Conflict(message, problems=problems)


def _held(path: str, owner: str) -> str:
    return f"webhook path {path} is held by app {owner}"


class WebhookRoutes:
    """Which app serves each webhook path on this process."""

    def __init__(self) -> None:
        self.owners: dict[str, str] = {}

    def owner(self, path: str) -> str | None:
        return self.owners.get(path)

    def claim(self, app: str, paths: Mapping[str, str]) -> dict[str, str]:
        """Give ``app`` the ``paths`` (``path -> trigger``) nobody else holds, after
        releasing those it held; the refused ones, ``trigger -> why``."""
        self.release(app)
        refused: dict[str, str] = {}
        for path, trigger in paths.items():
            holder = self.owners.setdefault(path, app)
            if holder != app:
                refused[trigger] = _held(path, holder)
                log.warning("app %s: trigger %s not served: %s", app, trigger, refused[trigger])
        return refused

    def release(self, app: str) -> None:
        for path in [path for path, owner in self.owners.items() if owner == app]:
            del self.owners[path]
