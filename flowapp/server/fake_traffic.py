"""Traffic decisions of ``FakePlatform``: which revision serves an invocation, and where a
rollback goes. Deterministic (a counter, not randomness), so tests can count on them."""

from __future__ import annotations

from collections.abc import Sequence

from flowapp.server.platform import Conflict, RevisionView


def pick_revision(traffic: Sequence[tuple[str, int]], counter: int) -> str:
    """Out of every 100 invocations, each revision serves its percent (in split order)."""
    slot = counter % 100
    for revision, percent in traffic:
        if slot < percent:
            return revision
        slot -= percent
    return traffic[0][0]


def previous_revision(revisions: Sequence[RevisionView], traffic: Sequence[tuple[str, int]]) -> str:
    """The newest ready revision older than the one serving the most traffic."""
    if not traffic:
        raise Conflict("nothing is deployed: there is nothing to roll back")
    current = max(traffic, key=lambda split: split[1])[0]
    numbers = {revision.id: revision.number for revision in revisions}
    older = [
        revision
        for revision in revisions
        if revision.status == "ready" and revision.number < numbers.get(current, 0)
    ]
    if not older:
        raise Conflict(f"no ready revision before {current} to roll back to")
    return max(older, key=lambda revision: revision.number).id
