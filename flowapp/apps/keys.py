"""Reading the keys of one mapping of ``flowapp.yaml`` while collecting problems.

The resource's readers (header, functions) go through :class:`Keys`, so a user sees
every mistake at once, each with an absolute JSON pointer (``/spec/functions/append/scale``)
that the loader turns into ``file:line:column``. A missing required key is reported on
its parent (the place that exists in the file); an unknown key on itself, with a "did you
mean" hint when a known key is close. (``flowapp.triggers`` has its own reader for the
trigger items, with the same conventions.)
"""

from __future__ import annotations

import difflib
from collections.abc import Collection, Mapping
from typing import Any

from flowapp.dsl.durations import DurationError, duration_seconds
from flowapp.dsl.problems import Problem, join_pointer


class Keys:
    """The keys of one mapping: reading a key marks it known; ``finish`` reports the rest."""

    def __init__(self, value: Any, pointer: str, problems: list[Problem]) -> None:
        self.valid = isinstance(value, Mapping)
        if not self.valid:  # one problem, not also one per missing key
            problems.append(Problem(pointer, f"must be a mapping, not {kind_of(value)}"))
        self._data: Mapping[str, Any] = value if self.valid else {}
        self.pointer = pointer
        self._problems = problems
        self._known: set[str] = set()

    def has(self, key: str) -> bool:
        return key in self._data

    def problem(self, key: str | None, message: str) -> None:
        pointer = self.pointer if key is None else join_pointer(self.pointer, key)
        self._problems.append(Problem(pointer, message))

    def raw(self, key: str) -> Any:
        self._known.add(key)
        return self._data.get(key)

    def required(self, key: str) -> str:
        """A required non-empty string; "" (with a problem recorded) otherwise."""
        if self.raw(key) is None:
            if self.valid:
                self.problem(None, f"missing required key `{key}`")
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

    def mapping(self, key: str, *, required: bool = False) -> Keys | None:
        value = self.raw(key)
        if value is None:
            if required and self.valid:
                self.problem(None, f"missing required key `{key}`")
            return None
        return Keys(value, join_pointer(self.pointer, key), self._problems)

    def finish(self) -> None:
        """Report every key nobody read, with the closest known key as a hint."""
        for key in self._data:
            if key not in self._known:
                close = difflib.get_close_matches(str(key), sorted(self._known), n=1)
                hint = f" (did you mean `{close[0]}`?)" if close else ""
                self.problem(str(key), f"unknown key `{key}`{hint}")


def kind_of(value: Any) -> str:
    """How a message names the type of a JSON value."""
    names = {dict: "a mapping", list: "a list", str: "a string", bool: "a boolean"}
    if value is None:
        return "null"
    return names.get(type(value), f"`{value}`")
