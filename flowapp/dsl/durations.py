"""Durations: ISO 8601 strings (``PT1.5S``, ``P1DT2H``) and the DSL's object form."""

from __future__ import annotations

import re
from typing import Any

_ISO = re.compile(
    r"^P(?!$)(?:(?P<weeks>\d+(?:\.\d+)?)W)?(?:(?P<days>\d+(?:\.\d+)?)D)?"
    r"(?:T(?=\d)(?:(?P<hours>\d+(?:\.\d+)?)H)?(?:(?P<minutes>\d+(?:\.\d+)?)M)?"
    r"(?:(?P<seconds>\d+(?:\.\d+)?)S)?)?$"
)
_UNIT_SECONDS = {
    "weeks": 604800.0,
    "days": 86400.0,
    "hours": 3600.0,
    "minutes": 60.0,
    "seconds": 1.0,
}
_OBJECT_UNITS = {
    "days": 86400.0,
    "hours": 3600.0,
    "minutes": 60.0,
    "seconds": 1.0,
    "milliseconds": 0.001,
}


class DurationError(ValueError):
    pass


def parse_iso_duration(text: str) -> float:
    """Seconds in an ISO 8601 duration (years and months are refused: their length varies)."""
    match = _ISO.match(text.strip().upper())
    if not match:
        raise DurationError(f"`{text}` is not an ISO 8601 duration such as PT30S or P1DT2H")
    return sum(float(v) * _UNIT_SECONDS[k] for k, v in match.groupdict().items() if v is not None)


def duration_seconds(value: Any) -> float:
    """Seconds in a duration written as an ISO 8601 string or ``{days, hours, ...}``."""
    if isinstance(value, str):
        return parse_iso_duration(value)
    if isinstance(value, dict):
        total = 0.0
        for unit, amount in value.items():
            if unit not in _OBJECT_UNITS:
                raise DurationError(f"unknown duration unit `{unit}`")
            if not isinstance(amount, (int, float)) or isinstance(amount, bool):
                raise DurationError(f"duration `{unit}` must be a number, not {amount!r}")
            total += float(amount) * _OBJECT_UNITS[unit]
        return total
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    raise DurationError(f"{value!r} is not a duration")


def format_iso_duration(seconds: float) -> str:
    whole = int(seconds)
    fraction = seconds - whole
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    text = "PT"
    if hours:
        text += f"{hours}H"
    if minutes:
        text += f"{minutes}M"
    if secs or fraction or text == "PT":
        text += f"{secs + fraction:g}S"
    return text
