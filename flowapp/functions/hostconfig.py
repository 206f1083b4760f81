"""The Python host's settings (arguments over environment) and its JSON log lines.

Every setting can come from the environment because that is how Knative configures a
container (``PORT``) and how the supervisor configures a local process; a command line
argument wins over the environment for manual runs.

Logs: one JSON object per line on stderr with ``time``, ``level``, ``logger``,
``message``, ``function`` and, for records made through ``context.logger``,
``execution_id``, ``task_reference`` and (for a call made inside a trace) ``trace_id``.
The supervisor reads the first two keys to split logs
per execution; any other runtime can do the same by writing the same keys.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import orjson


@dataclass(frozen=True, slots=True)
class HostConfig:
    path: Path
    host: str
    port: int
    function: str
    app: str
    threads: int
    grace_period: float
    log_level: str

    @classmethod
    def from_args(cls, argv: Sequence[str] | None, environ: Mapping[str, str]) -> HostConfig:
        env = environ.get
        parser = argparse.ArgumentParser(prog="python -m flowapp.functions.host")
        parser.add_argument("--path", default=env("FLOWAPP_FUNCTION_PATH", "."))
        parser.add_argument("--host", default=env("HOST", "127.0.0.1"))
        parser.add_argument("--port", type=int, default=int(env("PORT", "8080")))
        parser.add_argument("--function", default=env("FLOWAPP_FUNCTION"))
        parser.add_argument("--app", default=env("FLOWAPP_APP", "default"))
        parser.add_argument("--threads", type=int, default=int(env("FLOWAPP_CONCURRENCY", "8")))
        parser.add_argument(
            "--grace-period", type=float, default=float(env("FLOWAPP_GRACE_PERIOD", "20"))
        )
        parser.add_argument("--log-level", default=env("FLOWAPP_LOG_LEVEL", "INFO"))
        args = parser.parse_args(argv)
        path = Path(args.path).resolve()
        return cls(
            path=path,
            host=args.host,
            port=args.port,
            function=args.function or path.name,
            app=args.app,
            threads=max(1, args.threads),
            grace_period=args.grace_period,
            log_level=args.log_level.upper(),
        )


class JsonLogFormatter(logging.Formatter):
    """One JSON object per record, tagged with the function and, if known, the execution."""

    def __init__(self, function: str) -> None:
        super().__init__()
        self._function = function

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "function": self._function,
        }
        for key in ("execution_id", "task_reference", "trace_id"):
            value = getattr(record, key, None)
            if value is not None:
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return orjson.dumps(entry, default=str).decode()


def configure_logging(config: HostConfig) -> None:
    """Route every logger of the process to stderr as JSON lines."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonLogFormatter(config.function))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(config.log_level)
