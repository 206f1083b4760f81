"""Leases and the per-owner queues (timers, outbox, signals): one body for every adapter."""

from __future__ import annotations

import pytest

from flowapp.store import LeaseLost, Store, TimerRecord
from flowapp.store.port import LeaseClaim

from .store_factories import T0, checkpoint, create

LEASE = 30.0


def claim(store: Store, owner: str, *, now: float = T0, limit: int = 10) -> list[str]:
    return store.claim_executions(LeaseClaim(owner, LEASE, limit), now=now)


def test_claim_takes_unfinished_executions_oldest_first(store: Store) -> None:
    for n, status in enumerate(["running", "completed", "waiting", "faulted", "suspended"]):
        create(store, f"e{n}", status=status, created_at=T0 - 10 + n)
    create(store, "pending", status="pending", created_at=T0)
    create(store, "cancelled", status="cancelled", created_at=T0)
    assert claim(store, "p1", limit=2) == ["e0", "e2"]
    assert claim(store, "p2") == ["e4", "pending"]
    held = store.get_execution("e4")
    assert held is not None
    assert (held.owner, held.lease_until) == ("p2", T0 + LEASE)


def test_a_held_lease_is_taken_only_after_it_expires(store: Store) -> None:
    create(store, "e1")
    assert claim(store, "p1") == ["e1"]
    assert claim(store, "p2", now=T0 + LEASE - 1) == []
    assert claim(store, "p2", now=T0 + LEASE + 1) == ["e1"]
    assert store.get_execution("e1").owner == "p2"  # type: ignore[union-attr]
    assert claim(store, "p1", now=T0 + LEASE + 2) == []


def test_an_owner_claims_its_own_executions_back(store: Store) -> None:
    create(store, "e1", owner="p1", lease_until=T0 + 1000)
    create(store, "e2", owner="p2", lease_until=T0 + 1000)
    assert claim(store, "p1") == ["e1"]


def test_claiming_new_work_can_leave_own_executions_out(store: Store) -> None:
    create(store, "mine", owner="p1", lease_until=T0 + 1000)
    create(store, "free")
    taken = store.claim_executions(LeaseClaim("p1", LEASE, 10, include_own=False), now=T0)
    assert taken == ["free"]


def test_renew_skips_finished_executions(store: Store) -> None:
    create(store, "done", status="completed", owner="p1", lease_until=T0)
    create(store, "busy", status="running", owner="p1", lease_until=T0)
    assert store.renew_leases("p1", now=T0 + 5, lease_seconds=LEASE) == ["busy"]


def test_renew_extends_and_release_frees(store: Store) -> None:
    for execution_id in ("e1", "e2", "e3"):
        create(store, execution_id)
    assert claim(store, "p1", limit=2) == ["e1", "e2"]
    assert store.renew_leases("p1", now=T0 + 20, lease_seconds=LEASE) == ["e1", "e2"]
    assert store.get_execution("e1").lease_until == T0 + 20 + LEASE  # type: ignore[union-attr]
    assert claim(store, "p2", now=T0 + LEASE + 1) == ["e3"]  # renewed leases hold
    store.release_leases("p1", ["e1"])
    assert store.renew_leases("p1", now=T0 + 21, lease_seconds=LEASE) == ["e2"]
    store.release_leases("p2", ["e2"])  # not p2's: nothing happens
    store.release_leases("p1")
    assert store.renew_leases("p1", now=T0 + 22, lease_seconds=LEASE) == []
    assert claim(store, "p3", now=T0 + 22) == ["e1", "e2"]


def test_a_committer_whose_lease_was_taken_is_refused(store: Store) -> None:
    create(store, "e1")
    claim(store, "p1")
    store.commit([checkpoint("e1", owner="p1", updated_at=T0 + LEASE + 5)])  # expired, untaken
    claim(store, "p2", now=T0 + LEASE + 10)
    with pytest.raises(LeaseLost):
        store.commit([checkpoint("e1", owner="p1")])


def test_due_timers_by_owner(store: Store) -> None:
    create(store, "e1")
    create(store, "e2")
    claim(store, "p1", limit=1)
    t1 = TimerRecord("e1", "t", T0 + 5)
    t2 = TimerRecord("e2", "t", T0 + 3)
    late = TimerRecord("e1", "late", T0 + 50)
    store.commit([checkpoint("e1", timers_added=[t1, late]), checkpoint("e2", timers_added=[t2])])
    assert store.due_timers(before=T0 + 10, owner=None, limit=10) == [t2, t1]
    assert store.due_timers(before=T0 + 10, owner="p1", limit=10) == [t1]
    assert store.due_timers(before=T0 + 5, owner="p1", limit=10) == [t1]  # due at "before"
    assert store.due_timers(before=T0 + 10, owner="p2", limit=10) == []
    assert store.due_timers(before=T0 + 100, owner=None, limit=2) == [t2, t1]


def test_outbox_and_signals_by_owner(store: Store) -> None:
    create(store, "e1")
    create(store, "e2")
    claim(store, "p1", limit=1)
    store.commit([checkpoint("e1", outbox=[{"n": 1}]), checkpoint("e2", outbox=[{"n": 2}])])
    store.send_signal("e2", {"kind": "cancel"}, now=T0)
    store.send_signal("e1", {"kind": "resume"}, now=T0)
    assert [i.payload for i in store.pending_outbox(limit=10, owner="p1")] == [{"n": 1}]
    assert [i.payload for i in store.pending_outbox(limit=10)] == [{"n": 1}, {"n": 2}]
    mine = store.pending_signals(owner="p1", limit=10)
    assert [(s.execution_id, s.payload) for s in mine] == [("e1", {"kind": "resume"})]
    assert len(store.pending_signals(owner=None, limit=10)) == 2
    assert store.pending_signals(owner="p2", limit=10) == []


def test_of_retries_racing_for_a_faulted_execution_one_takes_it(store: Store) -> None:
    create(store, "e1", status="faulted", owner="p1", lease_until=T0)

    def retry(owner: str) -> bool:
        return store.lease_for_retry("e1", seen_owner="p1", owner=owner, lease_until=T0 + LEASE)

    assert retry("p2") is True
    assert retry("p3") is False  # read p1 before p2 took it: p2 retries, not p3
    held = store.get_execution("e1")
    assert (held.status, held.owner, held.lease_until) == ("faulted", "p2", T0 + LEASE)  # type: ignore[union-attr]
    store.commit([checkpoint("e1", owner="p2", status="running")])
    assert not store.lease_for_retry("e1", seen_owner="p2", owner="p2", lease_until=T0)


def test_only_a_faulted_execution_is_leased_for_a_retry(store: Store) -> None:
    create(store, "done", status="completed")
    create(store, "unowned", status="faulted")

    def retry(execution_id: str) -> bool:
        return store.lease_for_retry(execution_id, seen_owner=None, owner="p1", lease_until=T0)

    assert (retry("done"), retry("missing"), retry("unowned")) == (False, False, True)
