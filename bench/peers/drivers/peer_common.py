"""What every peer's step does, and how the three workloads are timed.

This runs inside a peer's own virtualenv, next to the peer's package, so it uses the
standard library only. The bench passes its settings as JSON in ``BENCH_PEER``; a driver
reports on stdout, one JSON object a line: ``{"config": ...}`` first, then one
``{"workload": ...}`` per workload as soon as it is measured (so a peer that hangs later
still gets its earlier figures reported).

A step is what a flowapp step does in ``bench/steps.py``: one HTTP call, a binary-mode
CloudEvent, to the bench's echo function (a real process), over a keep-alive connection.
"""

from __future__ import annotations

import http.client
import importlib.metadata
import json
import os
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import urlsplit

SETTINGS: dict[str, Any] = json.loads(os.environ.get("BENCH_PEER", "{}"))
WARM_UP = 20
RESULT_TIMEOUT = 60.0  # seconds one execution may take before the driver gives up


class Function:
    """The echo function over HTTP, one keep-alive connection per thread."""

    def __init__(self, url: str, headers: dict[str, str]) -> None:
        parts = urlsplit(url)
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or 80
        self.path = parts.path or "/"
        self.headers = headers
        self.local = threading.local()

    def _connection(self) -> http.client.HTTPConnection:
        connection = getattr(self.local, "connection", None)
        if connection is None:
            connection = http.client.HTTPConnection(self.host, self.port, timeout=30)
            self.local.connection = connection
        return connection

    def close(self) -> None:
        """Closes this thread's connection."""
        connection = getattr(self.local, "connection", None)
        if connection is not None:
            connection.close()
            self.local.connection = None

    def call(self, data: Any) -> Any:
        body = json.dumps(data).encode()
        headers = {**self.headers, "ce-id": uuid.uuid4().hex}
        for attempt in (1, 2):  # a keep-alive connection the server closed is opened again
            connection = self._connection()
            try:
                connection.request("POST", self.path, body, headers)
                response = connection.getresponse()
                payload = response.read()
                break
            except (ConnectionError, http.client.HTTPException):
                connection.close()
                self.local.connection = None
                if attempt == 2:
                    raise
        if response.status != 200:
            raise RuntimeError(f"the echo function answered {response.status}: {payload[:200]!r}")
        return json.loads(payload)


FUNCTION = Function(SETTINGS.get("function_url", "http://127.0.0.1:9"), SETTINGS.get("headers", {}))


def emit(**record: Any) -> None:
    print(json.dumps(record), flush=True)


def versions(*packages: str) -> dict[str, str]:
    found = {}
    for package in packages:
        try:
            found[package] = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            found[package] = "not installed"
    return found


def expect(output: Any, steps: int, what: str) -> None:
    if not isinstance(output, dict) or output.get("steps") != steps:
        raise RuntimeError(f"{what} returned {output!r}, expected {{'steps': {steps}}}")


def one_at_a_time(run: Callable[[], Any], runs: int, steps: int) -> list[float]:
    samples = []
    for index in range(runs + WARM_UP):
        started = time.perf_counter()
        expect(run(), steps, "an execution")
        if index >= WARM_UP:
            samples.append(time.perf_counter() - started)
    return samples


def in_flight(run: Callable[[], Any], total: int, width: int, steps: int) -> float:
    """Executions/s with ``width`` callers, each waiting for its execution's result."""

    def one(_: int) -> None:
        expect(run(), steps, "an execution")

    with ThreadPoolExecutor(width) as pool:
        list(pool.map(one, range(width)))  # warm-up: threads, connections
        started = time.perf_counter()
        list(pool.map(one, range(total)))
        return total / (time.perf_counter() - started)


CHAIN_OUTPUT = 3  # {"steps": 0} through three echo calls
FAN_OUT_OUTPUT = 21  # first: 1; ten branches: 2 each; join of their sum (20): 21


def measure(chain: Callable[[], Any], fan_out: Callable[[], Any]) -> None:
    """The three workloads, reported one by one."""
    emit(workload="chain", samples=one_at_a_time(chain, SETTINGS["runs"], CHAIN_OUTPUT))
    rate = in_flight(chain, SETTINGS["total"], SETTINGS["width"], CHAIN_OUTPUT)
    emit(workload="in_flight", rate=rate, total=SETTINGS["total"], width=SETTINGS["width"])
    emit(workload="fan_out", samples=one_at_a_time(fan_out, SETTINGS["fan_runs"], FAN_OUT_OUTPUT))


def start_workers(command: list[str]) -> subprocess.Popen[bytes]:
    """The peer's worker processes, in this driver's process group (the bench ends the
    group if the driver overstays); their output goes to the driver's stderr, the bench's
    log of this peer."""
    return subprocess.Popen(command, stdout=sys.stderr, stderr=sys.stderr)


def stop_workers(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)


def measure_with_workers(
    command: list[str],
    chain: Callable[[], Any],
    fan_out: Callable[[], Any],
    clean_up: Callable[[], None],
) -> None:
    """Start the peer's workers, wait until a chain comes through, measure; then stop the
    workers and ``clean_up`` what the run left in the broker, even when it failed."""
    workers = start_workers(command)
    try:
        wait_until_ready(chain, CHAIN_OUTPUT)
        measure(chain, fan_out)
    finally:
        stop_workers(workers)
        clean_up()


def delete_redis_keys(url: str, prefix: str) -> None:
    """What a Redis-brokered peer left under its run's namespace."""
    import redis  # only the Redis-brokered peers' virtualenvs have it

    client = redis.Redis.from_url(url)
    for key in client.scan_iter(f"{prefix}*"):
        client.delete(key)


def wait_until_ready(run: Callable[[], Any], steps: int, timeout: float = 60.0) -> None:
    """Runs ``run`` until the workers answer (they take a second or two to start)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            expect(run(), steps, "the first execution")
            return
        except Exception:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)
