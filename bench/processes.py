"""Processes a benchmark starts: function hosts and engine processes, cleaned up after."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

HERE = Path(__file__).parent


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_healthy(url: str, process: subprocess.Popen[bytes], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"process exited with {process.returncode} before {url} was up")
        with contextlib.suppress(OSError), urllib.request.urlopen(url, timeout=1) as response:
            if response.status == 200:
                return
        time.sleep(0.05)
    raise RuntimeError(f"{url} did not become healthy")


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(10)


@contextlib.contextmanager
def function_host(folder: Path = HERE / "functions" / "echo") -> Iterator[tuple[str, int]]:
    """A real function process serving ``folder``; yields its URL and pid."""
    port = free_port()
    env = {**os.environ, "PORT": str(port), "FLOWAPP_LOG_LEVEL": "WARNING"}
    process = subprocess.Popen(
        [sys.executable, "-m", "flowapp.functions.host", "--path", str(folder)],
        env=env,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        _wait_healthy(f"{url}/healthz", process)
        yield url, process.pid
    finally:
        _stop(process)


@contextlib.contextmanager
def engine_processes(db: str, count: int, function_url: str) -> Iterator[list[int]]:
    """``count`` `flowapp engine` processes sharing ``db``, each past its start-up (imports,
    migration, recovery take a second or two, which a timed run must not include); yields
    their pids."""
    with tempfile.TemporaryDirectory() as logs:
        processes = [_engine(db, f"bench-{i}", function_url, Path(logs)) for i in range(count)]
        try:
            for owner, process, log in processes:
                _wait_for_line(log, f"engine {owner} started", process)
            yield [process.pid for _, process, _ in processes]
        finally:
            for _, process, _ in processes:
                _stop(process)


def _engine(
    db: str, owner: str, function_url: str, logs: Path
) -> tuple[str, subprocess.Popen[bytes], Path]:
    log = logs / f"{owner}.log"
    command = [sys.executable, "-m", "flowapp.cli.main", "engine", "--db", db]
    profiles = os.environ.get("BENCH_PROFILE_ENGINES")  # a folder: cProfile each engine
    if profiles:
        output = Path(profiles) / f"{owner}-{time.time_ns()}.prof"
        command[1:1] = ["-m", "cProfile", "-o", str(output)]
    command += ["--owner", owner, "--function", f"echo={function_url}"]
    command += ["--lease", "10"]  # and the default poll for new work, 50 ms
    with log.open("wb") as output:
        process = subprocess.Popen(
            command, start_new_session=True, stdout=subprocess.DEVNULL, stderr=output
        )
    return owner, process, log


def _wait_for_line(
    log: Path, line: str, process: subprocess.Popen[bytes], timeout: float = 60.0
) -> None:
    deadline = time.monotonic() + timeout
    while line not in log.read_text(errors="replace"):
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"no `{line}` from the engine:\n{log.read_text()}")
        time.sleep(0.05)


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (Linux /proc), children excluded."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")
