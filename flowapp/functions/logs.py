"""Function output, line by line: a bounded in-memory ring per function, optional files.

Each instance's stdout and stderr are read line by line by the supervisor and appended
here as :class:`LogLine` values tagged with the function and instance. A line that is a
JSON object with ``execution_id`` (the hosts' log format, see ``hostconfig.py``) is also
tagged with that execution, so :meth:`LogStore.query` can answer "the logs of execution
X". Memory stays bounded (``capacity`` lines per function, oldest dropped); with a
``directory`` every line is also appended to ``<directory>/<function>.log``; with
:func:`pass_on`, handed to a receiver too (the server's JSON log).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Literal

import orjson

Stream = Literal["stdout", "stderr"]

# Where every line is also passed on as it arrives (``flowapp up --log-format json``
# writes them to its own log); None: kept here only.
_pass_on: Callable[[LogLine], None] | None = None


def pass_on(receiver: Callable[[LogLine], None] | None) -> None:
    """Hand every function's lines, from now on, to ``receiver`` too."""
    global _pass_on
    _pass_on = receiver


@dataclass(frozen=True, slots=True)
class LogLine:
    time: float  # seconds since the epoch
    function: str
    instance: str
    stream: Stream
    text: str
    execution_id: str | None = None
    task_reference: str | None = None


def execution_tags(text: str) -> tuple[str | None, str | None]:
    """``(execution_id, task_reference)`` of a JSON log line, else ``(None, None)``."""
    if not text.startswith("{"):
        return None, None
    try:
        entry = orjson.loads(text)
    except orjson.JSONDecodeError:
        return None, None
    if not isinstance(entry, dict):
        return None, None
    return _text(entry.get("execution_id")), _text(entry.get("task_reference"))


class LogStore:
    """Recent lines of every function, queryable by execution."""

    def __init__(
        self,
        *,
        capacity: int = 2000,
        directory: Path | None = None,
        redact: Callable[[str], str] | None = None,
    ) -> None:
        if capacity < 1:
            raise ValueError("log capacity must be at least 1 line")
        self._capacity = capacity
        self._directory = directory
        self._redact = redact  # masks the app's secret values before a line is kept
        self._rings: dict[str, deque[LogLine]] = {}
        self._files: dict[str, IO[str]] = {}

    def append(
        self, *, function: str, instance: str, stream: Stream, text: str, time: float
    ) -> LogLine:
        if self._redact is not None:
            text = self._redact(text)
        execution_id, task_reference = execution_tags(text)
        line = LogLine(time, function, instance, stream, text, execution_id, task_reference)
        ring = self._rings.get(function)
        if ring is None:
            ring = self._rings[function] = deque(maxlen=self._capacity)
        ring.append(line)
        if self._directory is not None:
            self._write(self._directory, line)
        if _pass_on is not None:
            _pass_on(line)
        return line

    def query(
        self, function: str, *, execution_id: str | None = None, limit: int = 100
    ) -> list[LogLine]:
        """The last ``limit`` lines of ``function``, oldest first, optionally of one execution."""
        ring = self._rings.get(function, ())
        lines = [line for line in ring if execution_id is None or line.execution_id == execution_id]
        return lines[-limit:] if limit > 0 else []

    def close(self) -> None:
        for file in self._files.values():
            file.close()
        self._files.clear()

    def _write(self, directory: Path, line: LogLine) -> None:
        file = self._files.get(line.function)
        if file is None:
            directory.mkdir(parents=True, exist_ok=True)
            # Line-buffered: a crash of the supervisor still leaves complete lines behind.
            file = open(directory / f"{line.function}.log", "a", buffering=1)  # noqa: SIM115
            self._files[line.function] = file
        stamp = datetime.fromtimestamp(line.time, UTC).isoformat(timespec="milliseconds")
        file.write(f"{stamp} {line.instance} {line.stream} {line.text}\n")


def _text(value: object) -> str | None:
    return None if value is None else str(value)
