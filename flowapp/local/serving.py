"""Which revision serves each app here, answered in one place.

    platform store (traffic) --load() at start--> Serving <--set_traffic() / forget()-- deploys,
    traffic changes, deletes;   invocations, triggers, schedule.after, retries and the
    syncer's observe() --ask--> Serving

The store's traffic splits are the truth; ``Serving`` is this process's copy of them,
rebuilt from the store at start (so that after a restart every app that has traffic is
reported as deployed) and kept in step by every change made here. An invocation
refreshes its app's splits from the store first (``refresh``), so that several
processes sharing one PostgreSQL database follow each other's deploys.

Beside the splits it keeps each app's last rollout: the revision being deployed, its
status (building | ready | failed) and why it failed, which the syncer turns into the
app's conditions.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol


@dataclass(frozen=True, slots=True)
class Rollout:
    revision: str | None
    status: str  # building | ready | failed
    error: str | None = None


class TrafficSource(Protocol):
    """What ``Serving`` reads of the platform store."""

    def list_apps(self) -> Sequence[Any]: ...

    def get_traffic(self, app: str) -> Sequence[tuple[str, int]]: ...


Choose = Callable[[list[str], list[int]], str]


def _weighted(revisions: list[str], weights: list[int]) -> str:
    return random.choices(revisions, weights=weights)[0]


class Serving:
    def __init__(self, choose: Choose = _weighted) -> None:
        self._splits: dict[str, list[tuple[str, int]]] = {}
        self._rollouts: dict[str, Rollout] = {}
        self._choose = choose

    # --- kept in step -------------------------------------------------------------------

    def load(self, store: TrafficSource) -> None:
        """Every app's splits from the store (blocking: run it in a thread)."""
        self._splits = {app.name: _shares(store.get_traffic(app.name)) for app in store.list_apps()}

    def refresh(self, store: TrafficSource, app: str) -> None:
        """One app's splits from the store (blocking), as another process may have
        changed them."""
        self.set_traffic(app, store.get_traffic(app))

    def set_traffic(self, app: str, splits: Iterable[tuple[str, int]]) -> None:
        shares = _shares(splits)
        if shares:
            self._splits[app] = shares
        else:
            self._splits.pop(app, None)

    def forget(self, app: str) -> None:
        self._splits.pop(app, None)
        self._rollouts.pop(app, None)

    def roll_out(
        self, app: str, revision: str | None, status: str, error: str | None = None
    ) -> None:
        self._rollouts[app] = Rollout(revision, status, error)

    # --- answers --------------------------------------------------------------------------

    def apps(self) -> set[str]:
        """Apps that serve traffic or had a rollout here."""
        return {*self._splits, *self._rollouts}

    def splits(self, app: str) -> list[tuple[str, int]]:
        """The revisions with a share of the app's traffic (percent > 0)."""
        return list(self._splits.get(app, []))

    def primary(self, app: str) -> str | None:
        """The revision with the largest share (the first of equals): the one whose
        resource the app's triggers run with, and retries move on to."""
        return primary_of(self._splits.get(app, []))

    def pick(self, app: str) -> str | None:
        """A revision for one new execution, chosen by the traffic split."""
        shares = self._splits.get(app)
        if not shares:
            return None
        return self._choose([s[0] for s in shares], [s[1] for s in shares])

    def rollout(self, app: str) -> Rollout | None:
        return self._rollouts.get(app)

    def is_serving(self, app: str, revision: str) -> bool:
        return any(share[0] == revision for share in self._splits.get(app, []))


def primary_of(splits: Iterable[tuple[str, int]]) -> str | None:
    """The serving revision of ``splits``: the largest share, the first of equals; None
    when no revision has a share."""
    shares = _shares(splits)
    return max(shares, key=lambda split: split[1])[0] if shares else None


def _shares(splits: Iterable[tuple[str, int]]) -> list[tuple[str, int]]:
    return [(split[0], split[1]) for split in splits if split[1] > 0]
