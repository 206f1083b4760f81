"""Autoscaling, routing and backoff decisions, without processes or clocks."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from flowapp.functions.scaling import (
    Backoff,
    InstanceLoad,
    Restarts,
    ScalePlan,
    function_state,
    pick_instance,
    plan_scale,
)
from flowapp.functions.spec import ScaleSpec


def load(
    id: str, *, in_flight: int = 0, last_active: float = 0.0, ready: bool = True
) -> InstanceLoad:
    return InstanceLoad(id, ready, in_flight, last_active)


def plan(
    scale: ScaleSpec,
    *instances: InstanceLoad,
    waiting: int = 0,
    now: float = 100.0,
    floor: int | None = None,
) -> ScalePlan:
    return plan_scale(
        scale,
        instances,
        waiting=waiting,
        now=now,
        idle_period=60.0,
        floor=scale.min if floor is None else floor,
    )


def test_starts_min_instances_from_nothing() -> None:
    assert plan(ScaleSpec(min=2, max=4)) == ScalePlan(start=2)


def test_scale_to_zero_starts_nothing_without_demand() -> None:
    assert plan(ScaleSpec(min=0)) == ScalePlan()


def test_a_queued_call_starts_an_instance_from_zero() -> None:
    assert plan(ScaleSpec(min=0), waiting=1) == ScalePlan(start=1)


def test_burst_starts_enough_instances_up_to_max() -> None:
    scale = ScaleSpec(min=1, max=3, concurrency=1)

    assert plan(scale, load("a", in_flight=1), waiting=5) == ScalePlan(start=2)


def test_capacity_counts_concurrency_per_instance() -> None:
    scale = ScaleSpec(min=1, max=4, concurrency=8)

    assert plan(scale, load("a", in_flight=8), waiting=1) == ScalePlan(start=1)
    assert plan(scale, load("a", in_flight=7), waiting=1) == ScalePlan()


def test_starting_instances_count_as_capacity() -> None:
    scale = ScaleSpec(min=0, max=4, concurrency=8)

    assert plan(scale, load("a", ready=False), waiting=3) == ScalePlan()


def test_surplus_instances_stop_only_after_the_idle_period() -> None:
    scale = ScaleSpec(min=1, max=4)
    busy = load("a", in_flight=1)
    recent = load("b", last_active=50.0)  # idle 50 s < 60 s
    old = load("c", last_active=10.0)  # idle 90 s

    assert plan(scale, busy, recent, old) == ScalePlan(stop=("c",))


def test_scale_down_keeps_min_and_stops_the_longest_idle_first() -> None:
    scale = ScaleSpec(min=1, max=4)
    instances = [
        load("a", last_active=30.0),
        load("b", last_active=10.0),
        load("c", last_active=20.0),
    ]

    assert plan(scale, *instances) == ScalePlan(stop=("b", "c"))


def test_a_starting_instance_never_stands_in_for_a_ready_one() -> None:
    scale = ScaleSpec(min=1, max=2, concurrency=1)
    warm = load("a", last_active=10.0)  # idle 90 s
    booting = load("b", ready=False)  # started for a burst the warm one served alone

    assert plan(scale, warm, booting) == ScalePlan()
    assert plan(scale, warm, load("c", last_active=20.0), booting) == ScalePlan(stop=("a",))


def test_scale_to_zero_after_idle() -> None:
    assert plan(ScaleSpec(min=0), load("a", last_active=0.0)) == ScalePlan(stop=("a",))


def test_floor_keeps_a_probe_for_a_failing_function() -> None:
    assert plan(ScaleSpec(min=0), floor=1) == ScalePlan(start=1)


@dataclass
class Slot:
    name: str
    ready: bool = True
    in_flight: int = 0


def test_pick_packs_onto_the_oldest_instance_with_a_free_slot() -> None:
    slots = [Slot("old", in_flight=2), Slot("new")]

    assert pick_instance(slots, concurrency=3) is slots[0]
    assert pick_instance(slots, concurrency=2) is slots[1]


def test_pick_skips_instances_that_are_not_ready() -> None:
    assert pick_instance([Slot("a", ready=False)], concurrency=8) is None
    assert pick_instance([], concurrency=8) is None


@pytest.mark.parametrize(
    ("failures", "delay"), [(0, 0.0), (1, 0.1), (2, 0.2), (4, 0.8), (20, 30.0), (10_000, 30.0)]
)
def test_backoff_doubles_up_to_a_maximum(failures: int, delay: float) -> None:
    assert Backoff(initial=0.1, maximum=30.0).delay(failures) == pytest.approx(delay)


def test_failed_starts_back_off_then_make_the_function_failing() -> None:
    restarts = Restarts(Backoff(initial=1.0, maximum=4.0), max_failed_starts=3)

    assert not restarts.lost("boom 1", start=True, now=0.0)
    assert (restarts.may_start(0.5), restarts.may_start(1.0)) == (False, True)
    assert not restarts.lost("boom 2", start=True, now=10.0)
    assert restarts.next_start_at == 12.0
    assert restarts.lost("boom 3", start=True, now=20.0)  # now failing
    assert not restarts.lost("boom 4", start=True, now=30.0)  # already failing
    assert (restarts.failing, restarts.count, restarts.next_start_at) == ("boom 4", 4, 34.0)


def test_a_healthy_start_ends_failing_but_only_a_reply_resets_the_backoff() -> None:
    restarts = Restarts(Backoff(initial=1.0, maximum=60.0), max_failed_starts=1)
    restarts.lost("boom", start=True, now=0.0)

    restarts.healthy()
    assert restarts.failing is None
    restarts.lost("crashed on its first call", start=False, now=10.0)
    assert restarts.next_start_at == 12.0  # second failure in a row: 2 s

    restarts.replied()
    restarts.lost("crashed again, much later", start=False, now=100.0)
    assert restarts.next_start_at == 101.0
    assert restarts.last_error == "crashed again, much later"


def test_a_broken_build_is_failing_until_reset() -> None:
    restarts = Restarts()
    restarts.broken("folder missing")
    assert restarts.failing == "folder missing"

    restarts.reset()
    assert (restarts.failing, restarts.may_start(0.0)) == (None, True)
    assert restarts.last_error == "folder missing"  # kept for status()


@pytest.mark.parametrize(
    ("facts", "state"),
    [
        ({"running": False, "failing": True, "ready": 1, "live": 1, "min": 1}, "stopped"),
        ({"running": True, "failing": True, "ready": 1, "live": 1, "min": 1}, "failing"),
        ({"running": True, "failing": False, "ready": 1, "live": 2, "min": 1}, "ready"),
        ({"running": True, "failing": False, "ready": 0, "live": 0, "min": 0}, "scaled-to-zero"),
        ({"running": True, "failing": False, "ready": 0, "live": 1, "min": 0}, "starting"),
        ({"running": True, "failing": False, "ready": 0, "live": 0, "min": 1}, "starting"),
    ],
)
def test_function_state(facts: dict[str, Any], state: str) -> None:
    assert function_state(**facts) == state
