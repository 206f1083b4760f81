"""Conditions and observations (what the syncer reports), on every adapter."""

from __future__ import annotations

import pytest

from flowapp.store.platform import (
    AppObservation,
    Condition,
    ConditionRecord,
    InvalidValue,
    NotFound,
    PlatformStore,
)

from .platform_factories import T0, make_app, platform_store_fixture  # noqa: F401 (fixture)


@pytest.fixture
def app(platform_store: PlatformStore) -> str:
    return make_app(platform_store, "shop").name


def test_conditions_are_stored_sorted_by_type(platform_store: PlatformStore, app: str) -> None:
    stored = platform_store.set_conditions(
        app,
        [
            Condition("Ready", "False", "FunctionsNotReady", "append is starting", "shop-00001"),
            Condition("FunctionsReady", "Unknown"),
        ],
        now=T0,
    )
    assert stored == [
        ConditionRecord(app, "FunctionsReady", "Unknown", "Unknown", "", T0, None),
        ConditionRecord(
            app, "Ready", "False", "FunctionsNotReady", "append is starting", T0, "shop-00001"
        ),
    ]
    assert platform_store.get_conditions(app) == stored
    assert platform_store.get_conditions("other") == []


def test_the_transition_time_moves_only_when_the_status_changes(
    platform_store: PlatformStore, app: str
) -> None:
    def ready(status: str, reason: str, now: float) -> ConditionRecord:
        (record,) = platform_store.set_conditions(
            app, [Condition("Ready", status, reason)], now=now
        )
        return record

    assert ready("False", "Building", T0).last_transition_time == T0
    same = ready("False", "Deploying", T0 + 10)  # new reason, same status
    assert (same.reason, same.last_transition_time) == ("Deploying", T0)
    changed = ready("True", "Deployed", T0 + 20)
    assert changed.last_transition_time == T0 + 20
    assert ready("True", "Deployed", T0 + 30).last_transition_time == T0 + 20
    assert ready("Unknown", "Lost", T0 + 40).last_transition_time == T0 + 40
    assert platform_store.get_conditions(app)[0].last_transition_time == T0 + 40


def test_conditions_not_reported_are_kept(platform_store: PlatformStore, app: str) -> None:
    platform_store.set_conditions(app, [Condition("TriggersReady", "True", "Running")], now=T0)
    after = platform_store.set_conditions(app, [Condition("Ready", "True", "Ok")], now=T0 + 1)
    assert [(c.type, c.last_transition_time) for c in after] == [
        ("Ready", T0 + 1),
        ("TriggersReady", T0),
    ]


@pytest.mark.parametrize(
    "condition",
    [
        Condition("Ready", "true"),
        Condition("Ready", "Yes"),
        Condition("ready", "True"),
        Condition("", "True"),
        Condition("Ready", "True", "not camel"),
        Condition("Ready", "True", ""),
    ],
)
def test_conditions_are_checked(
    platform_store: PlatformStore, app: str, condition: Condition
) -> None:
    with pytest.raises(InvalidValue):
        platform_store.set_conditions(app, [Condition("Synced", "True"), condition], now=T0)
    assert platform_store.get_conditions(app) == []  # all or nothing


def test_a_type_is_reported_once_per_call(platform_store: PlatformStore, app: str) -> None:
    twice = [Condition("Ready", "True"), Condition("Ready", "False")]
    with pytest.raises(InvalidValue):
        platform_store.set_conditions(app, twice, now=T0)


def test_conditions_need_a_live_app(platform_store: PlatformStore) -> None:
    with pytest.raises(NotFound):
        platform_store.set_conditions("nope", [Condition("Ready", "True")], now=T0)


def test_an_observation_is_replaced_as_a_whole(platform_store: PlatformStore, app: str) -> None:
    assert platform_store.get_observation(app) is None
    first = AppObservation(
        app,
        deployed_revision="shop-00001",
        functions={
            "append": {"state": "running", "instances": 2, "restarts": 1, "last_error": None},
            "display": {"state": "crashing", "instances": 0, "restarts": 5, "last_error": "boom"},
        },
        triggers={"orders": {"state": "connected", "last_error": None}},
        observed_at=T0,
    )
    platform_store.set_observation(first)
    assert platform_store.get_observation(app) == first
    second = AppObservation(app, None, {}, {}, T0 + 1)
    platform_store.set_observation(second)
    assert platform_store.get_observation(app) == second
    with pytest.raises(NotFound):
        platform_store.set_observation(AppObservation("nope", None, {}, {}, T0))
    with pytest.raises(InvalidValue):
        platform_store.set_observation(AppObservation(app, None, None, {}, T0))  # type: ignore[arg-type]
    assert platform_store.get_observation(app) == second
