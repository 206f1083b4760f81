"""The ``cron`` trigger's pure parts: configuration, fire times, catch-up, the event.

Keys: ``schedule`` (a five-field cron expression or ``@hourly``/``@daily``/...) or
``every`` (an ISO 8601 duration, fires at multiples of it since the Unix epoch, so every
process computes the same instants), ``timezone`` (IANA name, default ``UTC``; only for
``schedule``), ``catchUp`` (``once``, default, ``none`` or ``all``), ``catchUpLimit``
(default 10, for ``all``), ``data`` (the event's data; default describes the fire).

Fire times are computed with croniter in the time zone. Daylight saving: a time skipped
by a spring-forward gap fires at the first instant after the gap (02:30 becomes 03:00);
in a fall-back overlap a schedule with a fixed hour fires once, at the first pass, while
one whose hour field starts with ``*`` (every hour, every n hours) fires in both passes,
as Vixie cron does.

Catch-up after downtime, from the last handled instant (``CronState``) to now:
``none`` skips missed fires, ``once`` fires once for the latest missed fire (no burst),
``all`` fires the ``catchUpLimit`` most recent missed fires, oldest first.

Event id = ``<trigger name>:<scheduled time, UTC>``: two processes firing the same
schedule emit the same id, which the sink deduplicates.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, cast
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import CroniterError, croniter

from flowapp.dsl.durations import format_iso_duration
from flowapp.triggers.base import Event, Owner
from flowapp.triggers.events import rfc3339
from flowapp.triggers.fields import Fields

_MACROS = frozenset({"@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight"})
_WILDCARD_MACROS = frozenset({"@hourly"})
_PROBE = datetime(2000, 1, 1, tzinfo=UTC)
CatchUp = Literal["once", "none", "all"]


@dataclass(frozen=True, slots=True)
class CronConfig:
    schedule: str | None
    every: float | None
    timezone: str = "UTC"
    catch_up: CatchUp = "once"
    catch_up_limit: int = 10
    data: Any = None

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def description(self) -> str:
        return self.schedule or f"every {format_iso_duration(self.every or 0)}"


def parse_cron(body: Fields, dead_letter: Fields, owner: Owner) -> CronConfig:
    del dead_letter, owner  # cron has no dead-letter destination; names need no defaults
    if body.has("schedule") == body.has("every"):
        body.problem(None, "give exactly one of `schedule` and `every`")
    schedule = body.optional("schedule")
    every = body.duration("every", default=0.0, minimum=1.0) if body.has("every") else None
    if schedule is not None and (message := schedule_problem(schedule)):
        body.problem("schedule", message)
    timezone = body.string("timezone", default="UTC")
    if not _known_zone(timezone):
        body.problem("timezone", f"unknown time zone `{timezone}` (use an IANA name)")
    return CronConfig(
        schedule=schedule,
        every=every,
        timezone=timezone if _known_zone(timezone) else "UTC",
        catch_up=cast(CatchUp, body.choice("catchUp", ("once", "none", "all"), default="once")),
        catch_up_limit=body.integer("catchUpLimit", default=10, minimum=1, maximum=1000),
        data=body.raw("data"),
    )


def schedule_problem(schedule: str) -> str | None:
    """Why ``schedule`` is not a usable five-field cron expression, or None."""
    text = schedule.strip()
    if text.startswith("@"):
        if text in _MACROS | _WILDCARD_MACROS:
            return None
        return f"`{text}` is not a supported macro (@hourly, @daily, @weekly, @monthly, @yearly)"
    if len(text.split()) != 5 or not croniter.is_valid(text):
        return f"`{text}` is not a cron expression (minute hour day-of-month month day-of-week)"
    try:
        croniter(text, _PROBE).get_next(datetime)
    except CroniterError:
        return f"`{text}` never fires"
    return None


def next_fire(config: CronConfig, after: datetime) -> datetime:
    """The first fire strictly after ``after`` (aware), in UTC."""
    if config.every is not None:
        step = math.floor(after.timestamp() / config.every) + 1
        return datetime.fromtimestamp(step * config.every, tz=UTC)
    it = croniter(_expression(config), after.astimezone(config.zone))
    while True:
        fire: datetime = it.get_next(datetime)
        if not _repeated(config, fire):
            return fire.astimezone(UTC)


def missed_fires(
    config: CronConfig, *, since: datetime, until: datetime, limit: int
) -> list[datetime]:
    """The latest ``limit`` fires in ``(since, until]``, oldest first, in UTC."""
    if config.every is not None:
        last = math.floor(until.timestamp() / config.every)
        first = max(math.floor(since.timestamp() / config.every) + 1, last - limit + 1)
        return [datetime.fromtimestamp(n * config.every, tz=UTC) for n in range(first, last + 1)]
    # croniter's get_prev is exclusive: start just past ``until`` and drop what is later.
    it = croniter(_expression(config), (until + timedelta(seconds=1)).astimezone(config.zone))
    found: list[datetime] = []
    while len(found) < limit:
        fire: datetime = it.get_prev(datetime)
        if fire <= since:
            break
        if fire <= until and not _repeated(config, fire):
            found.append(fire.astimezone(UTC))
    return found[::-1]


def plan_catch_up(config: CronConfig, *, last: datetime | None, now: datetime) -> list[datetime]:
    """The fires to make on start-up, given the last handled instant (None: first start)."""
    if last is None or config.catch_up == "none":
        return []
    limit = config.catch_up_limit if config.catch_up == "all" else 1
    return missed_fires(config, since=last, until=now, limit=limit)


def cron_event(*, name: str, config: CronConfig, fire: datetime, event_type: str) -> Event:
    """The CloudEvent of one fire; the same for every process that computes it."""
    scheduled = rfc3339(fire)
    data = config.data
    if data is None:
        data = {"scheduledTime": scheduled, "schedule": config.description}
        if config.schedule is not None:
            data["timezone"] = config.timezone
    return {
        "specversion": "1.0",
        "id": f"{name}:{scheduled}",
        "source": f"urn:flowapp:cron:{name}",
        "type": event_type,
        "subject": config.description,
        "time": scheduled,
        "datacontenttype": "application/json",
        "data": data,
    }


def _expression(config: CronConfig) -> str:
    return (config.schedule or "").strip()


def _repeated(config: CronConfig, fire: datetime) -> bool:
    """Whether ``fire`` is the second pass of a fall-back overlap, for a fixed-hour schedule."""
    expression = _expression(config)
    if expression in _WILDCARD_MACROS or (
        not expression.startswith("@") and expression.split()[1].startswith("*")
    ):
        return False
    wall = fire.replace(tzinfo=None)
    first_pass = wall.replace(tzinfo=config.zone, fold=0)
    return first_pass.astimezone(UTC) < fire.astimezone(UTC)


def _known_zone(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True
