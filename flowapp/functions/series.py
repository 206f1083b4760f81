"""Series labelled by revision, kept bounded: an app's least recently used revisions go.

Every deploy makes a revision, so a ``revision`` label grows without end on a server
that lives for months. :class:`RevisionSeries` hands out the children of labelled
metrics whose first two label values are ``app`` and ``revision``, remembers them per
(app, revision), and removes every series of an app's least recently used revision once
the app has more than ``keep`` of them: a revision that still serves calls is used, so
it stays. Prometheus sees the series of a retired revision end (``increase`` over a
window that spans it still counts what it did).
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

from prometheus_client.metrics import MetricWrapperBase

KEEP_REVISIONS = 5

Labels = tuple[str, ...]


class RevisionSeries:
    def __init__(self, keep: int = KEEP_REVISIONS) -> None:
        if keep < 1:
            raise ValueError("keep at least one revision per app")
        self.keep = keep
        # app -> revision -> every (metric, label values) child made for it
        self._apps: dict[str, OrderedDict[str, dict[tuple[int, Labels], Any]]] = {}
        self._metrics: dict[int, MetricWrapperBase] = {}

    def child(self, metric: MetricWrapperBase, labels: Labels) -> Any:
        """``metric.labels(*labels)``, remembered; ``labels`` start with app, revision."""
        children = self.touch(labels[0], labels[1])
        key = (id(metric), labels)
        found = children.get(key)
        if found is None:
            found = children[key] = metric.labels(*labels)
            self._metrics[id(metric)] = metric
        return found

    def touch(self, app: str, revision: str) -> dict[tuple[int, Labels], Any]:
        """Mark (app, revision) used now; drops the app's oldest revision if one too many."""
        revisions = self._apps.setdefault(app, OrderedDict())
        children = revisions.get(revision)
        if children is None:
            children = revisions[revision] = {}
            while len(revisions) > self.keep:
                _, dropped = revisions.popitem(last=False)
                self._remove(dropped)
        else:
            revisions.move_to_end(revision)
        return children

    def revisions(self, app: str) -> list[str]:
        """The app's revisions with series, least recently used first."""
        return list(self._apps.get(app, ()))

    def _remove(self, children: dict[tuple[int, Labels], Any]) -> None:
        for metric_id, labels in children:
            metric = self._metrics[metric_id]
            try:
                metric.remove(*labels)
            except KeyError:  # removed already
                continue
