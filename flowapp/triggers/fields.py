"""Reading one mapping of a trigger item while collecting problems instead of raising.

Every parser in this package reads its keys through :class:`Fields`, so a user sees every
mistake of a trigger at once, each with a JSON pointer relative to the trigger item
(``/nats/subject``) that the caller turns into ``file:line``. A missing required key is
reported on its parent object (the place that exists in the file); an unknown key on
itself, with a "did you mean" hint.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Collection, Mapping
from typing import Any, Self

from flowapp.dsl.durations import DurationError, duration_seconds
from flowapp.dsl.problems import Problem, join_pointer


class KeyReader:
    """The keys of one mapping at ``pointer``: reading a key marks it known, ``finish``
    reports the rest. Problems are collected in ``problems``, never raised. The readers of
    ``flowapp.yaml`` (``flowapp.apps.keys``) share these conventions."""

    def __init__(self, value: Any, pointer: str, problems: list[Problem]) -> None:
        self.valid = isinstance(value, Mapping)
        if not self.valid:  # one problem, not also one per missing key
            problems.append(Problem(pointer, f"must be a mapping, not {self.kind(value)}"))
        self._data: Mapping[str, Any] = value if self.valid else {}
        self.pointer = pointer
        self._problems = problems
        self._known: set[str] = set()

    @staticmethod
    def kind(value: Any) -> str:
        """How a problem names the type of a JSON value."""
        names = {dict: "a mapping", list: "a list", str: "a string", bool: "a boolean"}
        return names.get(type(value), type(value).__name__)

    def has(self, key: str) -> bool:
        return key in self._data

    def problem(self, key: str | None, message: str) -> None:
        pointer = self.pointer if key is None else join_pointer(self.pointer, key)
        self._problems.append(Problem(pointer, message))

    def raw(self, key: str) -> Any:
        self._known.add(key)
        return self._data.get(key)

    def mapping(self, key: str, *, required: bool = False) -> Self | None:
        value = self._present(key, required)
        if value is None:
            return None
        return type(self)(value, join_pointer(self.pointer, key), self._problems)

    def finish(self) -> None:
        """Report every key nobody read, with the closest known key as a hint."""
        for key in self._data:
            if key not in self._known:
                close = difflib.get_close_matches(str(key), sorted(self._known), n=1)
                hint = f" (did you mean `{close[0]}`?)" if close else ""
                self.problem(str(key), f"unknown key `{key}`{hint}")

    def _present(self, key: str, required: bool) -> Any:
        """The value of ``key``; a missing required one is reported on this mapping (the
        place that exists in the file)."""
        value = self.raw(key)
        if value is None and required and self.valid:
            self.problem(None, f"missing required key `{key}`")
        return value


class Fields(KeyReader):
    """A trigger item's keys, read with the checks its parsers need."""

    def string(self, key: str, *, default: str, pattern: str = "") -> str:
        value = self.optional(key, pattern=pattern)
        return default if value is None else value

    def required(self, key: str, *, pattern: str = "") -> str:
        """A required string; "" (with a problem recorded) when missing or invalid."""
        if self._present(key, True) is None:
            return ""
        return self.optional(key, pattern=pattern) or ""

    def optional(self, key: str, *, pattern: str = "") -> str | None:
        value = self._present(key, False)
        if value is None:
            return None
        if not isinstance(value, str) or not value.strip():
            self.problem(key, f"`{key}` must be a non-empty string")
            return None
        if pattern and not re.fullmatch(pattern, value):
            self.problem(key, f"`{value}` is not a valid {key} (must match {pattern})")
            return None
        return value

    def integer(self, key: str, *, default: int, minimum: int = 0, maximum: int = 2**31) -> int:
        value = self._present(key, False)
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, int):
            self.problem(key, f"`{key}` must be an integer, not {self.kind(value)}")
            return default
        if not minimum <= value <= maximum:
            self.problem(key, f"`{key}` must be between {minimum} and {maximum}, not {value}")
            return default
        return value

    def boolean(self, key: str, *, default: bool) -> bool:
        value = self._present(key, False)
        if value is None:
            return default
        if not isinstance(value, bool):
            self.problem(key, f"`{key}` must be true or false, not {value!r}")
            return default
        return value

    def choice(self, key: str, options: Collection[str], *, default: str) -> str:
        value = self._present(key, False)
        if value is None:
            return default
        if value not in options:
            listed = ", ".join(sorted(options))
            self.problem(key, f"`{key}` must be one of {listed}, not {value!r}")
            return default
        return str(value)

    def duration(self, key: str, *, default: float, minimum: float = 0.0) -> float:
        """Seconds in an ISO 8601 duration (``PT30S``) or the DSL's ``{seconds: 30}`` form."""
        value = self._present(key, False)
        if value is None:
            return default
        try:
            seconds = duration_seconds(value)
        except DurationError as exc:
            self.problem(key, str(exc))
            return default
        if seconds < minimum:
            self.problem(key, f"`{key}` must be at least {minimum:g} seconds")
            return default
        return seconds

    def strings(self, key: str, *, default: tuple[str, ...]) -> tuple[str, ...]:
        """A string or a non-empty list of strings."""
        value = self._present(key, False)
        if value is None:
            return default
        items = [value] if isinstance(value, str) else value
        if not isinstance(items, list) or not items or not all(_text(i) for i in items):
            self.problem(key, f"`{key}` must be a string or a non-empty list of strings")
            return default
        return tuple(items)


def _text(value: Any) -> bool:
    return isinstance(value, str) and bool(value.strip())
