"""Reading the keys of one mapping of ``flowapp.yaml`` while collecting problems.

The resource's readers (header, functions) go through :class:`Keys`, so a user sees
every mistake at once, each with an absolute JSON pointer (``/spec/functions/append/scale``)
that the loader turns into ``file:line:column``. A missing required key is reported on
its parent (the place that exists in the file); an unknown key on itself, with a "did you
mean" hint when a known key is close. The core is the trigger items' reader's
(``flowapp.triggers.fields.KeyReader``); the checks and messages here are the resource's.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from flowapp.dsl.durations import DurationError, duration_seconds
from flowapp.triggers.fields import KeyReader


class Keys(KeyReader):
    """The keys of one mapping: reading a key marks it known; ``finish`` reports the rest."""

    @staticmethod
    def kind(value: Any) -> str:
        return kind_of(value)

    def required(self, key: str) -> str:
        """A required non-empty string; "" (with a problem recorded) otherwise."""
        if self._present(key, True) is None:
            return ""
        return self.optional(key) or ""

    def optional(self, key: str) -> str | None:
        value = self.raw(key)
        if value is not None and (not isinstance(value, str) or not value.strip()):
            self.problem(key, f"`{key}` must be a non-empty string, not {kind_of(value)}")
            return None
        return value

    def choice(self, key: str, options: Collection[str], *, default: str) -> str:
        value = self.raw(key)
        if value is None:
            return default
        if value not in options:
            self.problem(key, f"`{key}` must be one of {', '.join(options)}, not {value!r}")
            return default
        return str(value)

    def integer(self, key: str, *, default: int, minimum: int, maximum: int) -> int:
        value = self.raw(key)
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, int):
            self.problem(key, f"`{key}` must be a whole number, not {kind_of(value)}")
            return default
        if not minimum <= value <= maximum:
            self.problem(key, f"`{key}` must be between {minimum} and {maximum}, not {value}")
            return default
        return value

    def duration(self, key: str) -> float | None:
        """Seconds: a number, an ISO 8601 duration (``PT30S``) or ``{seconds: 30}``."""
        value = self.raw(key)
        if value is None:
            return None
        try:
            seconds = duration_seconds(value)
        except DurationError as exc:
            self.problem(key, str(exc))
            return None
        if seconds <= 0:
            self.problem(key, f"`{key}` must be longer than zero")
            return None
        return seconds


def kind_of(value: Any) -> str:
    """How a message names the type of a JSON value."""
    names = {dict: "a mapping", list: "a list", str: "a string", bool: "a boolean"}
    if value is None:
        return "null"
    return names.get(type(value), f"`{value}`")
