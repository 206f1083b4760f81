"""Cron fire times in time zones and across DST, the catch-up policy, the running trigger."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from flowapp.triggers import MemoryCronState, TriggerConfig, TriggerState, build_trigger
from flowapp.triggers.cron import CronConfig, cron_event, missed_fires, next_fire, plan_catch_up
from flowapp.triggers.testing import RecordingSink, eventually

NEW_YORK = ZoneInfo("America/New_York")


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


def cron(schedule: str | None = None, *, every: float | None = None, **kw: object) -> CronConfig:
    return CronConfig(schedule=schedule, every=every, **kw)  # type: ignore[arg-type]


def fires(config: CronConfig, after: datetime, count: int) -> list[datetime]:
    found = []
    for _ in range(count):
        after = next_fire(config, after)
        found.append(after)
    return found


def test_next_fire_is_computed_in_the_time_zone() -> None:
    nightly = cron("0 2 * * *", timezone="Asia/Shanghai")
    # 02:00 in Shanghai (UTC+8) is 18:00 UTC the day before.
    assert next_fire(nightly, utc(2026, 1, 1, 0, 0)) == utc(2026, 1, 1, 18, 0)
    assert next_fire(nightly, utc(2026, 1, 1, 18, 0)) == utc(2026, 1, 2, 18, 0)  # strictly after


def test_spring_forward_runs_a_skipped_time_once_after_the_gap() -> None:
    # 2026-03-08: New York clocks jump from 02:00 to 03:00; 02:30 does not exist.
    daily = cron("30 2 * * *", timezone="America/New_York")
    local = [f.astimezone(NEW_YORK).isoformat() for f in fires(daily, utc(2026, 3, 7, 12), 3)]
    assert local == [
        "2026-03-08T03:00:00-04:00",
        "2026-03-09T02:30:00-04:00",
        "2026-03-10T02:30:00-04:00",
    ]


def test_fall_back_runs_a_fixed_time_once() -> None:
    # 2026-11-01: 01:00-02:00 happens twice in New York.
    daily = cron("30 1 * * *", timezone="America/New_York")
    found = fires(daily, utc(2026, 10, 31, 12), 2)
    assert found == [utc(2026, 11, 1, 5, 30), utc(2026, 11, 2, 6, 30)]


def test_fall_back_runs_hourly_schedules_in_both_passes() -> None:
    half_hourly = cron("*/30 * * * *", timezone="America/New_York")
    found = fires(half_hourly, utc(2026, 11, 1, 4, 50), 5)
    assert found == [utc(2026, 11, 1, 5, 0) + timedelta(minutes=30 * i) for i in range(5)]


def test_every_is_aligned_to_the_epoch() -> None:
    five = cron(every=300)
    assert next_fire(five, utc(2026, 1, 1, 0, 7, 30)) == utc(2026, 1, 1, 0, 10)
    assert next_fire(five, utc(2026, 1, 1, 0, 10)) == utc(2026, 1, 1, 0, 15)


def test_missed_fires_are_the_latest_ones_in_order() -> None:
    hourly = cron("0 * * * *")
    assert missed_fires(
        hourly, since=utc(2026, 1, 1, 0, 30), until=utc(2026, 1, 1, 5), limit=3
    ) == [
        utc(2026, 1, 1, 3),
        utc(2026, 1, 1, 4),
        utc(2026, 1, 1, 5),  # a fire exactly at "now" counts as missed
    ]
    assert (
        missed_fires(hourly, since=utc(2026, 1, 1, 5), until=utc(2026, 1, 1, 5, 59), limit=3) == []
    )
    assert missed_fires(
        cron(every=60), since=utc(2026, 1, 1, 0, 0), until=utc(2026, 1, 1, 0, 3), limit=10
    ) == [
        utc(2026, 1, 1, 0, 1),
        utc(2026, 1, 1, 0, 2),
        utc(2026, 1, 1, 0, 3),
    ]


def test_missed_fires_skip_the_fall_back_repeat() -> None:
    daily = cron("30 1 * * *", timezone="America/New_York")
    found = missed_fires(daily, since=utc(2026, 10, 31, 0), until=utc(2026, 11, 2, 12), limit=10)
    assert found == [utc(2026, 10, 31, 5, 30), utc(2026, 11, 1, 5, 30), utc(2026, 11, 2, 6, 30)]


@pytest.mark.parametrize(
    ("policy", "expected"),
    [
        ("none", []),
        ("once", [utc(2026, 1, 3, 2)]),
        ("all", [utc(2026, 1, 2, 2), utc(2026, 1, 3, 2)]),
    ],
)
def test_catch_up_policies(policy: str, expected: list[datetime]) -> None:
    nightly = cron("0 2 * * *", catch_up=policy, catch_up_limit=2)
    # Down from Dec 31 to Jan 3 noon: four fires were missed.
    assert plan_catch_up(nightly, last=utc(2025, 12, 31, 3), now=utc(2026, 1, 3, 12)) == expected


def test_no_catch_up_on_the_first_start_or_without_a_miss() -> None:
    nightly = cron("0 2 * * *", catch_up="all")
    assert plan_catch_up(nightly, last=None, now=utc(2026, 1, 3)) == []
    assert plan_catch_up(nightly, last=utc(2026, 1, 3, 2), now=utc(2026, 1, 3, 12)) == []


def test_the_event_id_is_the_trigger_and_the_scheduled_time() -> None:
    nightly = cron("0 2 * * *", timezone="Asia/Shanghai")
    event = cron_event(
        name="nightly", config=nightly, fire=utc(2026, 1, 1, 18), event_type="t.cron"
    )
    assert event == {
        "specversion": "1.0",
        "id": "nightly:2026-01-01T18:00:00Z",
        "source": "urn:flowapp:cron:nightly",
        "type": "t.cron",
        "subject": "0 2 * * *",
        "time": "2026-01-01T18:00:00Z",
        "datacontenttype": "application/json",
        "data": {
            "scheduledTime": "2026-01-01T18:00:00Z",
            "schedule": "0 2 * * *",
            "timezone": "Asia/Shanghai",
        },
    }
    custom = cron(every=300, data={"report": "daily"})
    assert cron_event(name="n", config=custom, fire=utc(2026, 1, 1), event_type="t")["data"] == {
        "report": "daily"
    }


class FakeClock:
    """Time that jumps forward when slept on, so a day of schedule runs in milliseconds."""

    def __init__(self, now: datetime) -> None:
        self.current = now

    def now(self) -> datetime:
        return self.current

    async def sleep(self, seconds: float) -> None:
        self.current += timedelta(seconds=seconds)
        await asyncio.sleep(0)


def cron_trigger(item: dict[str, object], state: MemoryCronState, clock: FakeClock) -> object:
    return build_trigger({"name": "nightly", **item}, cron_state=state, clock=clock)


async def run_until(trigger: object, sink: RecordingSink, count: int) -> None:
    await trigger.start(sink)  # type: ignore[attr-defined]
    await eventually(lambda: len(sink.events) >= count, timeout=5)
    await trigger.stop()  # type: ignore[attr-defined]


async def test_cron_trigger_catches_up_once_then_follows_the_schedule() -> None:
    state = MemoryCronState({"nightly": utc(2025, 12, 28, 3)})
    clock = FakeClock(utc(2026, 1, 3, 12))
    sink = RecordingSink()
    trigger = cron_trigger({"cron": {"schedule": "0 2 * * *"}}, state, clock)
    await run_until(trigger, sink, 3)
    assert sink.ids[:3] == [
        "nightly:2026-01-03T02:00:00Z",  # the one catch-up fire, for the latest miss
        "nightly:2026-01-04T02:00:00Z",
        "nightly:2026-01-05T02:00:00Z",
    ]
    assert state.instants["nightly"] >= utc(2026, 1, 5, 2)
    assert trigger.status().state is TriggerState.STOPPED  # type: ignore[attr-defined]


async def test_cron_trigger_catch_up_all_is_bounded() -> None:
    state = MemoryCronState({"nightly": utc(2025, 12, 1, 3)})
    clock = FakeClock(utc(2026, 1, 3, 12))
    sink = RecordingSink()
    item = {"cron": {"schedule": "0 2 * * *", "catchUp": "all", "catchUpLimit": 3}}
    await run_until(cron_trigger(item, state, clock), sink, 4)
    assert sink.ids[:4] == [
        "nightly:2026-01-01T02:00:00Z",
        "nightly:2026-01-02T02:00:00Z",
        "nightly:2026-01-03T02:00:00Z",
        "nightly:2026-01-04T02:00:00Z",
    ]


async def test_cron_trigger_first_start_records_now_and_skips_the_past() -> None:
    state = MemoryCronState()
    clock = FakeClock(utc(2026, 1, 3, 12))
    sink = RecordingSink()
    await run_until(cron_trigger({"cron": {"every": "PT1H"}}, state, clock), sink, 1)
    assert sink.ids[0] == "nightly:2026-01-03T13:00:00Z"


async def test_cron_trigger_retries_a_failing_sink() -> None:
    state = MemoryCronState()
    clock = FakeClock(utc(2026, 1, 3, 12))
    sink = RecordingSink(fail_first=2)
    item = {"cron": {"every": "PT1H"}, "backoffDelay": "PT1S"}
    await run_until(cron_trigger(item, state, clock), sink, 1)
    assert sink.attempts["nightly:2026-01-03T13:00:00Z"] == 3


async def test_two_cron_triggers_emit_the_same_ids() -> None:
    item: dict[str, object] = {"cron": {"schedule": "*/15 * * * *"}}
    sinks = [RecordingSink(), RecordingSink()]
    for sink in sinks:
        clock = FakeClock(utc(2026, 1, 3, 12, 1))
        await run_until(cron_trigger(item, MemoryCronState(), clock), sink, 2)
    assert sinks[0].ids[:2] == sinks[1].ids[:2]


def test_cron_config_is_frozen() -> None:
    config = TriggerConfig(name="n", kind="cron", source=cron(every=1))
    with pytest.raises(AttributeError):
        config.name = "other"  # type: ignore[misc]
