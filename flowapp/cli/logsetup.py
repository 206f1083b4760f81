"""The log of the long-running commands (``up``, ``dev``, ``engine``): one line per
event on stderr, without the chatter of libraries at start (schema migrations say
what they do at INFO; they are quiet unless something needs saying).

``--log-format json`` makes every line a JSON object (``time``, ``level``, ``logger``,
``message``, and ``execution_id``, ``task_reference``, ``trace_id`` when the record is
about an execution), the functions' output included: each line a function instance
writes is passed on as one object with ``function``, ``instance`` and ``stream`` (a
host's own JSON line keeps its keys, ``trace_id`` among them), so that a log collector
(Loki, ...) joins lines to traces by ``trace_id``.
"""

from __future__ import annotations

import logging
import sys
from datetime import UTC, datetime
from typing import Any

import orjson

from flowapp.functions import logs as function_logs
from flowapp.runtime import logcontext

QUIET_LIBRARIES = ("alembic",)
FUNCTION_OUTPUT = "flowapp.function"  # the logger functions' lines are passed on through
ANNOUNCEMENTS = "flowapp.cli"  # what the commands tell their user (the banner)
_json = False
_TAGS = ("execution_id", "task_reference", "trace_id")


def configure_logging(level: int, log_format: str = "text") -> None:
    """``log_format``: ``text`` or ``json``."""
    if log_format == "json":
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(JsonFormatter())
        logging.basicConfig(level=level, handlers=[handler])
        global _json
        _json = True
        logcontext.enable()
        # A function's lines and the banner pass whatever the engine's level.
        logging.getLogger(FUNCTION_OUTPUT).setLevel(logging.DEBUG)
        logging.getLogger(ANNOUNCEMENTS).setLevel(logging.INFO)
        function_logs.pass_on(_function_line)
    else:
        logging.basicConfig(
            level=level, stream=sys.stderr, format="%(asctime)s %(name)s %(message)s"
        )
    for name in QUIET_LIBRARIES:
        logging.getLogger(name).setLevel(max(level, logging.WARNING))


def is_json() -> bool:
    return _json


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        stamp = datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds")
        entry: dict[str, Any] = {"time": stamp, "level": record.levelname, "logger": record.name}
        line = getattr(record, "function_line", None)
        if line is not None:  # a function's line: a host's JSON keeps its own keys
            entry.update(line)
            return orjson.dumps(entry, default=str).decode()
        entry["message"] = record.getMessage()
        context = logcontext.CURRENT.get()
        for key in _TAGS:
            value = getattr(record, key, None)
            if value is None and context is not None:
                value = getattr(context, key)
            if value is not None:
                entry[key] = value
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:  # as the secrets' redaction filter left it (masked)
            entry["exception"] = record.exc_text
        return orjson.dumps(entry, default=str).decode()


_LEVELS = {"WARN": logging.WARNING, "WARNING": logging.WARNING, "ERROR": logging.ERROR}


def _function_line(line: function_logs.LogLine) -> None:
    entry: dict[str, Any] = {}
    if line.text.startswith("{"):
        try:
            parsed = orjson.loads(line.text)
        except orjson.JSONDecodeError:
            parsed = None
        if isinstance(parsed, dict):
            entry = parsed
    if not entry:
        entry = {"message": line.text}
    level = _LEVELS.get(str(entry.get("level", "")).upper(), logging.INFO)
    fields = {"function": line.function, "instance": line.instance, "stream": line.stream}
    record = logging.getLogger(FUNCTION_OUTPUT).makeRecord(
        FUNCTION_OUTPUT, level, "", 0, "", (), None, extra={"function_line": fields | entry}
    )
    record.created = line.time
    logging.getLogger(FUNCTION_OUTPUT).handle(record)
