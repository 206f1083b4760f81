"""The trigger benchmark: messages/s from NATS through a one-step workflow to completion.

``flowapp up`` runs as a subprocess (SQLite in a temporary data dir) with a FlowApp whose
nats trigger reads a JetStream stream of this run's own. For each app (one ``set`` task;
one Python function call), once a warm-up message has gone through:

- burst: N messages published as fast as JetStream acks them; executions/s from the first
  publish to the last execution completed, and the latency from each message's publish to
  its execution's end (most of which is the backlog's queueing, by design of a burst);
- paced: messages published at about a third of that rate, so they find no backlog: the
  latency of one message through trigger, durable start, engine and completion.

Completion times are the executions' ``ended_at`` in the store (the same clock: one
machine). Run: ``.venv/bin/python -m bench.triggers``, ``python bench/triggers.py`` or
``python -m bench triggers``; ``BENCH_MESSAGES`` sets N (default 5000), ``BENCH_QUICK=1``
makes it 1000.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path

import nats
import nats.js.errors
import orjson

if not __package__:  # run as `python bench/triggers.py`: the repository root on the path
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.machine import describe
from bench.stats import percentile
from tests.integration.noloss.launcher import FlowappUp
from tests.integration.noloss.projects import RECORD, SET_STEP, app_name, project
from tests.integration.noloss.store_probe import completions, status_counts

NATS_URL = "nats://127.0.0.1:4222"
MAX_IN_FLIGHT = int(os.environ.get("BENCH_MAX_IN_FLIGHT", 64))
APPS = (("1-step set", SET_STEP), ("1-step Python call", RECORD))


class Stream:
    """This run's JetStream stream; publishes ``{"n": n}`` and remembers when."""

    def __init__(self) -> None:
        u = uuid.uuid4().hex[:10]
        self.subject, self.name = f"bench.triggers.{u}", f"BENCH_TRIGGERS_{u}"
        self.dl_subject, self.dl_name = f"bench.dead.{u}", f"BENCH_TRIGGERS_DL_{u}"
        self.sent: dict[int, float] = {}

    async def open(self) -> None:
        self.nc = await nats.connect(NATS_URL)
        self.js = self.nc.jetstream()
        await self.js.add_stream(name=self.name, subjects=[self.subject])

    def trigger(self) -> dict[str, object]:
        return {
            "name": "messages",
            "nats": {"url": NATS_URL, "subject": self.subject, "stream": self.name},
            "deadLetter": {"subject": self.dl_subject, "stream": self.dl_name},
            "maxInFlight": MAX_IN_FLIGHT,
        }

    async def publish(self, numbers: range, *, rate: float | None = None) -> None:
        started = time.monotonic()
        for index, n in enumerate(numbers):
            if rate is not None:
                await asyncio.sleep(max(0.0, started + index / rate - time.monotonic()))
            self.sent[n] = time.time()
            await self.js.publish(self.subject, orjson.dumps({"n": n}))

    async def close(self) -> None:
        for name in (self.name, self.dl_name):
            with contextlib.suppress(nats.js.errors.NotFoundError):
                await self.js.delete_stream(name)
        await self.nc.close()


async def _completed(up: FlowappUp, app: str, count: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while status_counts(up.db, app)["completed"] < count:
        if not up.running or time.monotonic() > deadline:
            raise RuntimeError(f"{count} executions not completed in {timeout}s\n{up.tail()}")
        await asyncio.sleep(0.02)


def _latencies(up: FlowappUp, app: str, stream: Stream, numbers: range) -> list[float]:
    ended = {data["n"]: at for data, at in completions(up.db, app) if data["n"] in numbers}
    return [ended[n] - stream.sent[n] for n in numbers]


def _ms(samples: list[float]) -> str:
    p50, p99 = percentile(samples, 0.5) * 1000, percentile(samples, 0.99) * 1000
    return f"p50 {p50:.0f} ms, p99 {p99:.0f} ms"


async def _measure(label: str, source: Path, directory: Path, messages: int) -> list[str]:
    stream = Stream()
    await stream.open()
    folder = project(source, directory / "app", stream.trigger())
    app = app_name(folder)
    up = FlowappUp(data_dir=directory / "data", app_dir=folder, log=directory / "up.log")
    try:
        up.start()
        up.wait_healthy()
        await stream.publish(range(-1, 0))  # warm-up: trigger connected, function called
        await _completed(up, app, 1, timeout=30)

        burst = range(messages)
        await stream.publish(burst)
        await _completed(up, app, 1 + messages, timeout=600)
        ends = [at for data, at in completions(up.db, app) if data["n"] >= 0]
        rate = messages / (max(ends) - stream.sent[0])
        burst_latency = _latencies(up, app, stream, burst)

        paced = range(messages, messages + max(100, messages // 10))
        pace = max(1.0, rate / 3)
        await stream.publish(paced, rate=pace)
        await _completed(up, app, 1 + messages + len(paced), timeout=600)
        paced_latency = _latencies(up, app, stream, paced)
        up.stop()
    finally:
        up.cleanup()
        await stream.close()
    return [
        f"{label}: {messages:,} messages in {messages / rate:.1f} s: {rate:,.0f} executions/s; "
        f"publish -> completed {_ms(burst_latency)} (burst, queueing included)",
        f"{label}: paced at {pace:,.0f} msg/s ({len(paced)} messages): "
        f"publish -> completed {_ms(paced_latency)}",
    ]


def main() -> list[str]:
    messages = 1000 if os.environ.get("BENCH_QUICK") == "1" else 5000
    messages = int(os.environ.get("BENCH_MESSAGES", messages))
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    lines = [
        f"NATS JetStream -> flowapp up (subprocess, SQLite) -> workflow completed; "
        f"maxInFlight {MAX_IN_FLIGHT}; load average at start {load} (a shared machine "
        f"makes these figures move)"
    ]
    for label, source in APPS:
        with tempfile.TemporaryDirectory(prefix="bench-triggers-") as directory:
            lines += asyncio.run(_measure(label, source, Path(directory), messages))
    return lines


if __name__ == "__main__":
    print(describe())
    for line in main():
        print(line, flush=True)
